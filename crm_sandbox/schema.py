"""What a fresh sandbox org is made of: its modules and their standard fields, the seeded custom fields, the Deals
stages with their probabilities, the system views, the editions' limits. Static data, no database.

Field api names follow the SDK's per-module field classes (reference §13). What is marked UNCONFIRMED below is
a choice of the sandbox, not a documented fact: change it here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

JSON_TYPES = {
    "text": "string",
    "textarea": "string",
    "email": "string",
    "phone": "string",
    "website": "string",
    "picklist": "string",
    "date": "string",
    "datetime": "string",
    "integer": "integer",
    "bigint": "integer",
    "double": "double",
    "currency": "double",
    "percent": "integer",
    "boolean": "boolean",
    "lookup": "jsonobject",
    "ownerlookup": "jsonobject",
    "multiselectpicklist": "jsonarray",
    "autonumber": "string",
}
TEXT_TYPES = {"text", "textarea", "email", "phone", "website", "picklist", "autonumber"}
NUMBER_TYPES = {"integer", "bigint", "double", "currency", "percent"}


@dataclass(frozen=True)
class FieldSpec:
    api_name: str
    label: str
    data_type: str = "text"
    length: int | None = None
    mandatory: bool = False
    read_only: bool = False
    picklist: tuple[str, ...] = ()
    lookup: str = ""
    custom: bool = False
    mc_only: bool = False  # shown only when the org has multi-currency on


@dataclass(frozen=True)
class ModuleSpec:
    api_name: str
    singular: str
    name_field: str  # the system duplicate-check field (reference §3.3)
    email_field: str = ""
    fields: tuple[FieldSpec, ...] = field(default_factory=tuple)


def _address(prefix: str, zip_name: str = "Code") -> tuple[FieldSpec, ...]:
    label = prefix.replace("_", " ")
    return (
        FieldSpec(f"{prefix}_Street", f"{label} Street", length=250),
        FieldSpec(f"{prefix}_City", f"{label} City", length=30),
        FieldSpec(f"{prefix}_State", f"{label} State", length=30),
        FieldSpec(f"{prefix}_{zip_name}", f"{label} {'Code' if zip_name == 'Code' else 'Zip'}", length=30),
        FieldSpec(f"{prefix}_Country", f"{label} Country", length=30),
    )


SYSTEM_FIELDS = (
    FieldSpec("Owner", "Account Owner", "ownerlookup"),
    FieldSpec("Created_By", "Created By", "ownerlookup", read_only=True),
    FieldSpec("Modified_By", "Modified By", "ownerlookup", read_only=True),
    FieldSpec("Created_Time", "Created Time", "datetime", read_only=True),
    FieldSpec("Modified_Time", "Modified Time", "datetime", read_only=True),
    FieldSpec("Currency", "Currency", "picklist", mc_only=True),
    FieldSpec("Exchange_Rate", "Exchange Rate", "double", mc_only=True),
)
SYSTEM_FIELD_NAMES = {"Owner", "Created_By", "Modified_By", "Created_Time", "Modified_Time"}

LEAD_SOURCES = ("-None-", "Advertisement", "Cold Call", "Employee Referral", "External Referral", "Partner", "Web")

# Stage → probability and forecast type. UNCONFIRMED: the commonly cited defaults (reference §9); change here.
STAGES: tuple[tuple[str, int, str, str], ...] = (
    # (actual value, probability, forecast_type, forecast category)
    ("Qualification", 10, "Open", "Pipeline"),
    ("Needs Analysis", 20, "Open", "Pipeline"),
    ("Value Proposition", 40, "Open", "Pipeline"),
    ("Id. Decision Makers", 60, "Open", "Pipeline"),
    ("Perception Analysis", 70, "Open", "Pipeline"),
    ("Proposal/Price Quote", 75, "Open", "Best Case"),
    ("Negotiation/Review", 90, "Open", "Best Case"),
    ("Closed Won", 100, "Closed Won", "Closed"),
    ("Closed Lost", 0, "Closed Lost", "Omitted"),
    ("Closed Lost to Competition", 0, "Closed Lost", "Omitted"),
)
STAGE_PROBABILITY = {name: prob for name, prob, _, _ in STAGES}
STAGE_DISPLAY = {"Id. Decision Makers": "Identify Decision Makers"}
PIPELINE_NAME = "Standard (Standard)"

MODULES: dict[str, ModuleSpec] = {
    "Accounts": ModuleSpec(
        "Accounts",
        "Account",
        "Account_Name",
        fields=(
            FieldSpec("Account_Name", "Account Name", length=200, mandatory=True),
            FieldSpec("Account_Number", "Account Number", length=40),
            FieldSpec("Account_Site", "Account Site", length=80),
            FieldSpec("Parent_Account", "Parent Account", "lookup", lookup="Accounts"),
            FieldSpec(
                "Account_Type",
                "Account Type",
                "picklist",
                picklist=(
                    "-None-",
                    "Analyst",
                    "Competitor",
                    "Customer",
                    "Distributor",
                    "Integrator",
                    "Investor",
                    "Partner",
                    "Press",
                    "Prospect",
                    "Reseller",
                    "Other",
                ),
            ),
            FieldSpec(
                "Industry",
                "Industry",
                "picklist",
                picklist=(
                    "-None-",
                    "Communications",
                    "Consulting",
                    "Education",
                    "Financial Services",
                    "Government",
                    "Healthcare",
                    "Manufacturing",
                    "Retail",
                    "Technology",
                    "Transportation",
                ),
            ),
            FieldSpec("Annual_Revenue", "Annual Revenue", "currency"),
            FieldSpec("Employees", "Employees", "integer"),
            FieldSpec("Ownership", "Ownership", "picklist", picklist=("-None-", "Private", "Public", "Subsidiary")),
            FieldSpec("Rating", "Rating", "picklist", picklist=("-None-", "Acquired", "Active", "Market Failed")),
            FieldSpec("Phone", "Phone", "phone", length=30),
            FieldSpec("Fax", "Fax", "phone", length=30),
            FieldSpec("Website", "Website", "website", length=255),
            FieldSpec("Ticker_Symbol", "Ticker Symbol", length=30),
            FieldSpec("SIC_Code", "SIC Code", "integer"),
            *_address("Billing"),
            *_address("Shipping"),
            FieldSpec("Description", "Description", "textarea", length=32000),
            FieldSpec("Customer_Tier", "Customer Tier", "picklist", picklist=("Gold", "Silver", "Bronze"), custom=True),
            FieldSpec("Credit_Limit", "Credit Limit", "currency", custom=True),
            FieldSpec("VAT_Number", "VAT Number", length=30, custom=True),
            FieldSpec("Onboarded_On", "Onboarded On", "date", custom=True),
        ),
    ),
    "Contacts": ModuleSpec(
        "Contacts",
        "Contact",
        "Full_Name",
        email_field="Email",
        fields=(
            FieldSpec(
                "Salutation", "Salutation", "picklist", picklist=("-None-", "Mr.", "Mrs.", "Ms.", "Dr.", "Prof.")
            ),
            FieldSpec("First_Name", "First Name", length=40),
            FieldSpec("Last_Name", "Last Name", length=80, mandatory=True),
            FieldSpec("Full_Name", "Contact Name", read_only=True),
            FieldSpec("Account_Name", "Account Name", "lookup", lookup="Accounts"),
            FieldSpec("Vendor_Name", "Vendor Name", "lookup", lookup="Vendors"),
            FieldSpec("Email", "Email", "email", length=100),
            FieldSpec("Secondary_Email", "Secondary Email", "email", length=100),
            FieldSpec("Phone", "Phone", "phone", length=30),
            FieldSpec("Mobile", "Mobile", "phone", length=30),
            FieldSpec("Home_Phone", "Home Phone", "phone", length=30),
            FieldSpec("Other_Phone", "Other Phone", "phone", length=30),
            FieldSpec("Fax", "Fax", "phone", length=30),
            FieldSpec("Title", "Title", length=100),
            FieldSpec("Department", "Department", length=30),
            FieldSpec("Lead_Source", "Lead Source", "picklist", picklist=LEAD_SOURCES),
            FieldSpec("Date_of_Birth", "Date of Birth", "date"),
            FieldSpec("Email_Opt_Out", "Email Opt Out", "boolean"),
            FieldSpec("Reporting_To", "Reporting To", "lookup", lookup="Contacts"),
            *_address("Mailing", "Zip"),
            *_address("Other", "Zip"),
            FieldSpec("Description", "Description", "textarea", length=32000),
            FieldSpec(
                "Preferred_Channel", "Preferred Channel", "picklist", picklist=("Email", "Phone", "SMS"), custom=True
            ),
        ),
    ),
    "Vendors": ModuleSpec(
        "Vendors",
        "Vendor",
        "Vendor_Name",
        email_field="Email",
        fields=(
            FieldSpec("Vendor_Name", "Vendor Name", length=120, mandatory=True),
            FieldSpec("Email", "Email", "email", length=100),
            FieldSpec("Phone", "Phone", "phone", length=30),
            FieldSpec("Website", "Website", "website", length=255),
            FieldSpec(
                "GL_Account",
                "GL Account",
                "picklist",
                picklist=(
                    "-None-",
                    "Sales-Software",
                    "Sales-Hardware",
                    "Rental-Income",
                    "Interest-Income",
                    "Sales Discount",
                    "Freight-Domestic",
                    "Service-Fees",
                ),
            ),
            FieldSpec("Category", "Category", length=40),
            FieldSpec("Street", "Street", length=250),
            FieldSpec("City", "City", length=30),
            FieldSpec("State", "State", length=30),
            FieldSpec("Zip_Code", "Zip Code", length=30),
            FieldSpec("Country", "Country", length=30),
            FieldSpec("Email_Opt_Out", "Email Opt Out", "boolean"),
            FieldSpec("Description", "Description", "textarea", length=32000),
            FieldSpec("Payment_Terms_Days", "Payment Terms Days", "integer", custom=True),
        ),
    ),
    "Products": ModuleSpec(
        "Products",
        "Product",
        "Product_Name",
        fields=(
            FieldSpec("Product_Name", "Product Name", length=200, mandatory=True),
            FieldSpec("Product_Code", "Product Code", length=40),
            FieldSpec("Product_Active", "Product Active", "boolean"),
            FieldSpec("Unit_Price", "Unit Price", "currency"),
            FieldSpec("Taxable", "Taxable", "boolean"),
            FieldSpec(
                "Product_Category",
                "Product Category",
                "picklist",
                picklist=("-None-", "Hardware", "Software", "CRM Applications"),
            ),
            FieldSpec(
                "Manufacturer",
                "Manufacturer",
                "picklist",
                picklist=("-None-", "AltvetPet Inc.", "LexPro Co.", "Zylker"),
            ),
            FieldSpec("Vendor_Name", "Vendor Name", "lookup", lookup="Vendors"),
            FieldSpec(
                "Usage_Unit",
                "Usage Unit",
                "picklist",
                picklist=("-None-", "Box", "Carton", "Dozen", "Each", "Hour(s)", "Pack", "Pieces", "Quantity"),
            ),
            FieldSpec("Qty_in_Stock", "Qty in Stock", "double"),
            FieldSpec("Qty_Ordered", "Qty Ordered", "double"),
            FieldSpec("Qty_in_Demand", "Qty in Demand", "double"),
            FieldSpec("Reorder_Level", "Reorder Level", "double"),
            FieldSpec("Commission_Rate", "Commission Rate", "currency"),
            FieldSpec("Sales_Start_Date", "Sales Start Date", "date"),
            FieldSpec("Sales_End_Date", "Sales End Date", "date"),
            FieldSpec("Description", "Description", "textarea", length=32000),
            FieldSpec("Product_Type", "Product Type", "picklist", picklist=("Goods", "Services"), custom=True),
        ),
    ),
    "Deals": ModuleSpec(
        "Deals",
        "Deal",
        "Deal_Name",
        fields=(
            FieldSpec("Deal_Name", "Deal Name", length=120, mandatory=True),
            FieldSpec("Amount", "Amount", "currency"),
            FieldSpec("Closing_Date", "Closing Date", "date"),
            FieldSpec("Account_Name", "Account Name", "lookup", lookup="Accounts"),
            FieldSpec("Contact_Name", "Contact Name", "lookup", lookup="Contacts"),
            FieldSpec("Pipeline", "Pipeline", "picklist", picklist=(PIPELINE_NAME,)),
            FieldSpec("Stage", "Stage", "picklist", mandatory=True, picklist=tuple(s[0] for s in STAGES)),
            FieldSpec("Probability", "Probability (%)", "integer"),
            FieldSpec("Expected_Revenue", "Expected Revenue", "currency", read_only=True),
            FieldSpec("Type", "Type", "picklist", picklist=("-None-", "Existing Business", "New Business")),
            FieldSpec("Lead_Source", "Lead Source", "picklist", picklist=LEAD_SOURCES),
            FieldSpec("Next_Step", "Next Step", length=100),
            FieldSpec(
                "Reason_For_Loss__s",
                "Reason For Loss",
                "picklist",
                picklist=("-None-", "Price", "Competition", "Lost to Competitor", "No Budget", "Other"),
            ),
            FieldSpec("Description", "Description", "textarea", length=32000),
        ),
    ),
}

# Lookup fields that point at another record, per module: used to resolve names and validate ids.
LOOKUPS: dict[str, dict[str, str]] = {
    module: {f.api_name: f.lookup for f in spec.fields if f.data_type == "lookup"} for module, spec in MODULES.items()
}

# System views per module (reference §5; the Accounts/Contacts/Deals names are UNCONFIRMED, by analogy with Leads).
SYSTEM_VIEWS: tuple[tuple[str, str], ...] = (
    ("ALLVIEWS", "All {plural}"),
    ("MYVIEWS", "My {plural}"),
    ("RECENTLYCREATED", "Recently Created {plural}"),
    ("RECENTLYMODIFIED", "Recently Modified {plural}"),
    ("today", "Today's {plural}"),
)
RECENT_DAYS = 30  # UNCONFIRMED: how far back "Recently Created/Modified" looks

# Editions (reference §11): credits per 24 h = base + users × per_user, capped; concurrency per org per app.
EDITION_LIMITS: dict[str, tuple[int, int, int | None, int]] = {
    # edition: (base, per user, cap or None, concurrency)
    "free": (5_000, 0, 5_000, 5),
    "standard": (50_000, 250, 100_000, 10),
    "professional": (50_000, 500, 3_000_000, 15),
    "enterprise": (50_000, 1_000, 5_000_000, 20),
    "ultimate": (50_000, 2_000, None, 25),
}

CURRENCIES: dict[str, tuple[str, str, str]] = {
    # iso: (name, symbol, exchange rate against USD; demo figures)
    "USD": ("US Dollar - USD", "$", "1"),
    "EUR": ("Euro - EUR", "€", "0.92"),
    "GBP": ("Pound Sterling - GBP", "£", "0.79"),
    "INR": ("Indian Rupee - INR", "₹", "83.1"),
    "AUD": ("Australian Dollar - AUD", "A$", "1.52"),
    "CAD": ("Canadian Dollar - CAD", "C$", "1.36"),
    "JPY": ("Japanese Yen - JPY", "¥", "151"),
}

# Notification `operation` per event. UNCONFIRMED (reference §10.2): only "insert" is documented. Override with
# CRM_SANDBOX_NOTIFY_OPERATIONS="create=insert,edit=update,delete=delete".
_DEFAULT_OPERATIONS = {"create": "insert", "edit": "update", "delete": "delete"}


def notify_operations() -> dict[str, str]:
    ops = dict(_DEFAULT_OPERATIONS)
    for part in os.environ.get("CRM_SANDBOX_NOTIFY_OPERATIONS", "").split(","):
        if "=" in part:
            key, value = part.split("=", 1)
            if key.strip() in ops and value.strip():
                ops[key.strip()] = value.strip()
    return ops


def module_fields(module: str, *, mc_status: bool) -> tuple[FieldSpec, ...]:
    spec = MODULES[module]
    system = tuple(f for f in SYSTEM_FIELDS if mc_status or not f.mc_only)
    return system + spec.fields
