"""Orgs and their set-up (fields, views, roles, users, currencies), generated seed data, and the reset that tests
run before each test.

Seeding writes records with one `executemany` per module, so `seed --accounts 100000` stays well under a minute.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from crm_sandbox import fieldcache
from crm_sandbox.common import new_id, new_ids, now
from crm_sandbox.models import (
    CrmUser,
    Currency,
    CustomView,
    Delivery,
    Edition,
    FieldDef,
    Org,
    Record,
    Role,
    UniqueValue,
    WatchChannel,
)
from crm_sandbox.schema import CURRENCIES, JSON_TYPES, MODULES, PIPELINE_NAME, STAGES, SYSTEM_VIEWS, module_fields
from crm_sandbox.services import limits


@dataclass(frozen=True)
class SeedCounts:
    accounts: int = 20
    contacts: int = 30
    vendors: int = 5
    products: int = 10
    deals: int = 15

    def as_dict(self) -> dict[str, int]:
        return {
            "accounts": self.accounts,
            "contacts": self.contacts,
            "vendors": self.vendors,
            "products": self.products,
            "deals": self.deals,
        }


DEMO_COUNTS = SeedCounts(accounts=200, contacts=400, vendors=40, products=80, deals=300)

PRIMARY_USER = ("Patricia", "Boyle", "patricia.boyle@zylker.test")
OTHER_USERS = (
    ("Marcus", "Chen", "marcus.chen@zylker.test", "Manager"),
    ("Amelia", "Ortiz", "amelia.ortiz@zylker.test", "Sales Rep"),
    ("Jonas", "Weber", "jonas.weber@zylker.test", "Sales Rep"),
    ("Priya", "Raman", "priya.raman@zylker.test", "Sales Rep"),
)


def org_create(
    *,
    company_name: str = "Zylker Corp",
    edition: str = Edition.PROFESSIONAL,
    currency_iso: str = "USD",
    mc_status: bool = False,
    is_default: bool = False,
    primary_email: str = PRIMARY_USER[2],
) -> Org:
    """A fresh org with its metadata: fields (standard and the seeded custom ones), views, roles, users."""
    with transaction.atomic():
        org_id = new_id()
        org = Org.objects.create(
            id=org_id,
            zgid=str(800_000_000 + org_id % 100_000_000),
            company_name=company_name,
            domain_name=f"org{800_000_000 + org_id % 100_000_000}",
            edition=edition,
            currency_iso=currency_iso,
            mc_status=mc_status,
            is_default=is_default,
            primary_email=primary_email,
        )
        _metadata_create(org)
        _people_create(org, primary_email=primary_email)
    fieldcache.invalidate()
    return org


def _metadata_create(org: Org) -> None:
    rows: list[FieldDef] = []
    views: list[CustomView] = []
    for module in MODULES:
        specs = module_fields(module, mc_status=True)
        ids = new_ids(len(specs))
        for seq, (spec, fid) in enumerate(zip(specs, ids, strict=True)):
            picklist: list[Any] = list(spec.picklist)
            if spec.api_name == "Currency":
                picklist = list(CURRENCIES)
            rows.append(
                FieldDef(
                    id=fid,
                    org=org,
                    module=module,
                    api_name=spec.api_name,
                    field_label=f"{MODULES[module].singular} Owner" if spec.api_name == "Owner" else spec.label,
                    data_type=spec.data_type,
                    json_type=JSON_TYPES.get(spec.data_type, "string"),
                    length=spec.length or (255 if spec.data_type == "text" else None),
                    decimal_place=2 if spec.data_type == "currency" else None,
                    custom_field=spec.custom,
                    system_mandatory=spec.mandatory,
                    read_only=spec.read_only,
                    pick_list_values=picklist,
                    lookup_module=spec.lookup,
                    sequence=seq,
                )
            )
        view_ids = new_ids(len(SYSTEM_VIEWS))
        for (system_name, pattern), vid in zip(SYSTEM_VIEWS, view_ids, strict=True):
            views.append(
                CustomView(
                    id=vid,
                    org=org,
                    module=module,
                    name=pattern.format(plural=module),
                    system_name=system_name,
                    system_defined=True,
                    is_default=system_name == "ALLVIEWS",
                )
            )
    FieldDef.objects.bulk_create(rows)
    CustomView.objects.bulk_create(views)
    base = CURRENCIES.get(org.currency_iso, CURRENCIES["USD"])
    Currency.objects.create(
        id=new_id(), org=org, iso_code=org.currency_iso, name=base[0], symbol=base[1], exchange_rate=1, is_base=True
    )
    if org.mc_status:
        _extra_currencies(org)


def _extra_currencies(org: Org) -> None:
    base_rate = Decimal(CURRENCIES.get(org.currency_iso, CURRENCIES["USD"])[2])
    existing = set(Currency.objects.filter(org=org).values_list("iso_code", flat=True))
    Currency.objects.bulk_create(
        [
            Currency(
                id=new_id(),
                org=org,
                iso_code=iso,
                name=name,
                symbol=symbol,
                exchange_rate=(Decimal(rate) / base_rate).quantize(Decimal("0.000000001")),
            )
            for iso, (name, symbol, rate) in CURRENCIES.items()
            if iso not in existing and iso in ("USD", "EUR", "GBP", "INR")
        ]
    )


def _user_views(org: Org, owner: CrmUser) -> None:
    """Views a user made, whose criteria really filter the list."""

    def cond(api_name: str, comparator: str, value: Any) -> dict[str, Any]:
        return {"comparator": comparator, "field": {"api_name": api_name}, "value": value}

    specs = [
        ("Accounts", "Gold Accounts", cond("Customer_Tier", "equal", "Gold")),
        (
            "Accounts",
            "California Customers",
            {
                "group_operator": "and",
                "group": [cond("Billing_State", "equal", "CA"), cond("Account_Type", "equal", "Customer")],
            },
        ),
        ("Contacts", "Prefers Email", cond("Preferred_Channel", "equal", "Email")),
        ("Vendors", "Net 30 Vendors", cond("Payment_Terms_Days", "equal", 30)),
        ("Products", "Services", cond("Product_Type", "equal", "Services")),
        ("Products", "Active Products", cond("Product_Active", "equal", True)),
        (
            "Deals",
            "Open Deals",
            {
                "group_operator": "and",
                "group": [cond("Stage", "not_equal", "Closed Won"), cond("Stage", "not_equal", "Closed Lost")],
            },
        ),
        ("Deals", "Won Deals", cond("Stage", "equal", "Closed Won")),
    ]
    ids = new_ids(len(specs))
    CustomView.objects.bulk_create(
        [
            CustomView(
                id=vid,
                org=org,
                module=module,
                name=name,
                category=CustomView.Category.CREATED_BY_ME,
                criteria=criteria,
                created_by=owner,
            )
            for (module, name, criteria), vid in zip(specs, ids, strict=True)
        ]
    )


def _people_create(org: Org, *, primary_email: str, primary: CrmUser | None = None) -> CrmUser:
    role_ids = new_ids(3)
    ceo = Role.objects.create(id=role_ids[0], org=org, name="CEO", admin_user=True)
    manager = Role.objects.create(id=role_ids[1], org=org, name="Manager", reporting_to=ceo)
    rep = Role.objects.create(id=role_ids[2], org=org, name="Sales Rep", reporting_to=manager)
    roles = {"Manager": manager, "Sales Rep": rep}
    if primary is None:
        uid = new_id()
        primary = CrmUser.objects.create(
            id=uid,
            org=org,
            zuid=str(808_000_000 + uid % 1_000_000),
            first_name=PRIMARY_USER[0],
            last_name=PRIMARY_USER[1],
            email=primary_email,
            role=ceo,
            profile_name="Administrator",
            is_admin=True,
        )
    else:
        primary.role = ceo
        primary.save(update_fields=["role"])
    uids = new_ids(len(OTHER_USERS))
    CrmUser.objects.bulk_create(
        [
            CrmUser(
                id=uid,
                org=org,
                zuid=str(808_000_000 + uid % 1_000_000),
                first_name=first,
                last_name=last,
                email=email,
                role=roles[role],
                profile_name="Standard",
            )
            for (first, last, email, role), uid in zip(OTHER_USERS, uids, strict=True)
        ]
    )
    _user_views(org, primary)
    return primary


def primary_user(org: Org) -> CrmUser:
    user = CrmUser.objects.filter(org=org, is_admin=True).order_by("id").first()
    if user is None:
        raise CrmUser.DoesNotExist(f"org {org.id} has no administrator")
    return user


def default_org() -> Org | None:
    return Org.objects.filter(is_default=True).order_by("id").first()


def org_update(*, org: Org, values: dict[str, Any]) -> Org:
    """Change org settings: company_name, edition, currency (the base currency), mc_status, api_credits,
    concurrency. Raises ValueError naming the field when a value is wrong."""
    known = {"company_name", "edition", "currency", "mc_status", "api_credits", "concurrency", "time_zone"}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"unknown org setting(s) {sorted(unknown)}; known: {sorted(known)}")
    with transaction.atomic():
        if "company_name" in values:
            name = str(values["company_name"] or "").strip()
            if not name:
                raise ValueError("company_name must not be empty")
            org.company_name = name[:120]
        if "edition" in values:
            if values["edition"] not in Edition.values:
                raise ValueError(f"edition must be one of {Edition.values}, not {values['edition']!r}")
            org.edition = values["edition"]
        if "time_zone" in values:
            org.time_zone = str(values["time_zone"])
        if "mc_status" in values:
            if not isinstance(values["mc_status"], bool):
                raise ValueError("mc_status must be true or false")
            org.mc_status = values["mc_status"]
        for key, attr in (("api_credits", "api_credits_override"), ("concurrency", "concurrency_override")):
            if key in values:
                value = values[key]
                if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                    raise ValueError(f"{key} must be a whole number ≥ 0 or null")
                setattr(org, attr, value)
        if "currency" in values:
            iso = str(values["currency"] or "").upper()
            if iso not in CURRENCIES:
                raise ValueError(f"currency must be one of {sorted(CURRENCIES)}, not {values['currency']!r}")
            if iso != org.currency_iso:
                Currency.objects.filter(org=org).update(is_base=False)
                name, symbol, _ = CURRENCIES[iso]
                Currency.objects.update_or_create(
                    org=org,
                    iso_code=iso,
                    defaults={"name": name, "symbol": symbol, "exchange_rate": 1, "is_base": True, "id": new_id()},
                )
                if not org.mc_status:
                    Currency.objects.filter(org=org, is_base=False).delete()
                org.currency_iso = iso
        org.save()
        if org.mc_status:
            _extra_currencies(org)
        else:
            Currency.objects.filter(org=org, is_base=False).delete()
    fieldcache.invalidate()
    return org


# ---- generated data ---------------------------------------------------------------------------------------------

ADJECTIVES = (
    "Blue Harbor", "Northwind", "Silver Peak", "Redwood", "Summit", "Evergreen", "Granite", "Lakeside", "Sunrise",
    "Ironclad", "Brightline", "Cedar", "Pioneer", "Atlas", "Crescent", "Harborview", "Keystone", "Maple", "Orion",
    "Pinnacle", "Quantum", "Riverbend", "Sterling", "Trident", "Vertex", "Westfield", "Zylker", "Apex", "Beacon",
    "Cobalt", "Driftwood", "Falcon", "Golden Gate", "Horizon", "Juniper", "Lighthouse", "Meridian", "Nimbus", "Oakridge",
    "Polaris",
)  # fmt: skip
NOUNS = (
    "Logistics", "Analytics", "Foods", "Robotics", "Consulting", "Textiles", "Energy", "Pharma", "Media", "Outfitters",
    "Builders", "Dental", "Farms", "Freight", "Hardware", "Insurance", "Labs", "Motors", "Networks", "Optics",
    "Paper", "Realty", "Software", "Telecom", "Travel", "Ventures", "Wellness", "Apparel", "Brewing", "Cycles",
    "Design", "Electric", "Finance", "Graphics", "Health", "Interiors", "Jewelry", "Kitchens", "Lighting", "Marine",
)  # fmt: skip
SUFFIXES = ("Inc", "LLC", "Ltd", "GmbH", "Co", "Group", "Partners", "Corp")
CITIES = (
    ("San Jose", "CA", "95113"), ("Austin", "TX", "73301"), ("Seattle", "WA", "98101"), ("Denver", "CO", "80202"),
    ("Boston", "MA", "02108"), ("Chicago", "IL", "60601"), ("Miami", "FL", "33101"), ("Portland", "OR", "97201"),
    ("Los Angeles", "CA", "90001"), ("New York", "NY", "10001"), ("Atlanta", "GA", "30301"), ("Phoenix", "AZ", "85001"),
)  # fmt: skip
FIRST = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "Lucas", "Mia", "Mateo", "Isabella", "Levi", "Aria",
    "Ethan", "Chloe", "Kai", "Nora", "Omar", "Zoe", "Hiro", "Fatima", "Diego", "Ingrid", "Ravi",
)  # fmt: skip
LAST = (
    "Smith", "Johnson", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Lee", "Walker", "Hall", "Young", "King",
    "Wright", "Lopez", "Hill", "Scott", "Green", "Adams", "Baker", "Nelson", "Carter", "Mitchell", "Tanaka", "Singh",
)  # fmt: skip
PRODUCTS = (
    "Laptop", "Monitor", "Keyboard", "Router", "Support Plan", "Installation", "Training Day", "Server Rack", "Printer",
    "Headset", "Cloud Backup", "Consulting Hour", "Switch", "Webcam", "Docking Station", "License Seat",
)  # fmt: skip
SERVICE_WORDS = {"Support Plan", "Installation", "Training Day", "Cloud Backup", "Consulting Hour", "License Seat"}


def _company_names(rng: random.Random, count: int, *, offset: int = 0) -> list[str]:
    """Distinct names, and about 3% near-duplicates of an earlier one ("Zylker Foods Inc" / "Zylker Foods Inc.")."""
    names: list[str] = []
    combos = len(ADJECTIVES) * len(NOUNS) * len(SUFFIXES)
    for i in range(count):
        if names and rng.random() < 0.03:
            twin = rng.choice(names[-50:])
            names.append(rng.choice((twin + ".", twin.replace(" ", "  ", 1), twin.upper(), twin + " ")).strip())
            continue
        n = (i + offset) * 7919 % combos if combos > count else i + offset
        adj = ADJECTIVES[n % len(ADJECTIVES)]
        noun = NOUNS[(n // len(ADJECTIVES)) % len(NOUNS)]
        suffix = SUFFIXES[(n // (len(ADJECTIVES) * len(NOUNS))) % len(SUFFIXES)]
        cycle = (i + offset) // combos
        names.append(f"{adj} {noun} {suffix}" + (f" {cycle + 1}" if cycle else ""))
    return names


def _times(rng: random.Random, count: int, stamp: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    out = []
    for _ in range(count):
        # Mostly the last two years; a tenth in the last 30 days so "Recently …" views have records.
        age = rng.uniform(0, 30) if rng.random() < 0.1 else rng.uniform(30, 730)
        created = stamp - dt.timedelta(days=age, seconds=rng.randint(0, 86_399))
        modified = min(stamp, created + dt.timedelta(days=rng.uniform(0, age)))
        out.append((created, modified))
    return out


def _insert_rows(org: Org, module: str, rows: list[dict[str, Any]], owners: list[int], rng: random.Random) -> list[int]:
    spec = MODULES[module]
    ids = new_ids(len(rows))
    stamp = now()
    times = _times(rng, len(rows), stamp)
    adapt = connection.ops.adapt_datetimefield_value
    params = []
    for rid, data, (created, modified) in zip(ids, rows, times, strict=True):
        owner = rng.choice(owners)
        name = str(data.get(spec.name_field) or "").lower()[:255]
        email = str(data.get(spec.email_field) or "").lower()[:255] if spec.email_field else ""
        params.append(
            (rid, org.id, module, json.dumps(data), name, email, owner, owner, owner, adapt(created), adapt(modified))
        )
    columns = (
        "id, org_id, module, data, name, email, owner_id, created_by_id, modified_by_id, created_time, modified_time"
    )
    sql = f"INSERT INTO {Record._meta.db_table} ({columns}) VALUES ({', '.join(['%s'] * 11)})"  # noqa: S608 - no input
    with connection.cursor() as cursor:
        for start in range(0, len(params), 5000):
            cursor.executemany(sql, params[start : start + 5000])
    return ids


def seed_data(*, org: Org, counts: SeedCounts, seed: int = 42) -> dict[str, int]:
    """Generate records: accounts with contacts, vendors, products (some from vendors), deals across the pipeline."""
    rng = random.Random(seed)
    owners = list(CrmUser.objects.filter(org=org).values_list("id", flat=True))
    with transaction.atomic():
        account_names = _company_names(rng, counts.accounts)
        accounts = []
        for name in account_names:
            city, state, zip_code = rng.choice(CITIES)
            accounts.append(
                {
                    "Account_Name": name,
                    "Account_Number": str(rng.randint(100_000, 999_999)),
                    "Account_Type": rng.choice(("Customer", "Customer", "Prospect", "Partner", "Reseller")),
                    "Industry": rng.choice(("Technology", "Retail", "Manufacturing", "Healthcare", "Consulting")),
                    "Phone": f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                    "Website": "https://www." + "".join(ch for ch in name.lower() if ch.isalnum())[:24] + ".test",
                    "Annual_Revenue": float(rng.randint(1, 500) * 10_000),
                    "Employees": rng.randint(5, 5000),
                    "Billing_Street": f"{rng.randint(1, 9999)} {rng.choice(LAST)} Street",
                    "Billing_City": city,
                    "Billing_State": state,
                    "Billing_Code": zip_code,
                    "Billing_Country": "United States",
                    "Shipping_City": city,
                    "Shipping_State": state,
                    "Shipping_Country": "United States",
                    "Customer_Tier": rng.choice(("Gold", "Silver", "Silver", "Bronze", "Bronze", "Bronze")),
                    "Credit_Limit": float(rng.randint(1, 100) * 1000),
                    "VAT_Number": f"US{rng.randint(10**8, 10**9 - 1)}",
                    "Onboarded_On": (now() - dt.timedelta(days=rng.randint(0, 1500))).date().isoformat(),
                }
            )
        account_ids = _insert_rows(org, "Accounts", accounts, owners, rng)
        vendor_names = [f"{n} Supply" for n in _company_names(rng, counts.vendors, offset=5000)]
        vendors = []
        for name in vendor_names:
            city, state, zip_code = rng.choice(CITIES)
            vendors.append(
                {
                    "Vendor_Name": name,
                    "Email": "orders@" + "".join(ch for ch in name.lower() if ch.isalnum())[:24] + ".test",
                    "Phone": f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                    "City": city,
                    "State": state,
                    "Zip_Code": zip_code,
                    "Country": "United States",
                    "Category": rng.choice(("Hardware", "Services", "Logistics")),
                    "Payment_Terms_Days": rng.choice((15, 30, 30, 45, 60)),
                }
            )
        vendor_ids = _insert_rows(org, "Vendors", vendors, owners, rng)
        contacts = []
        for i in range(counts.contacts):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            city, state, zip_code = rng.choice(CITIES)
            contact: dict[str, Any] = {
                "First_Name": first,
                "Last_Name": last,
                "Full_Name": f"{first} {last}",
                "Email": f"{first.lower()}.{last.lower()}{i}@example.test",
                "Phone": f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                "Title": rng.choice(("CFO", "Buyer", "Office Manager", "CTO", "Accountant")),
                "Mailing_City": city,
                "Mailing_State": state,
                "Mailing_Zip": zip_code,
                "Mailing_Country": "United States",
                "Preferred_Channel": rng.choice(("Email", "Phone", "SMS")),
                "Lead_Source": rng.choice(("Web", "Partner", "Cold Call")),
            }
            if account_ids and rng.random() < 0.85:  # some contacts have no account
                contact["Account_Name"] = {"id": str(rng.choice(account_ids))}
            contacts.append(contact)
        contact_ids = _insert_rows(org, "Contacts", contacts, owners, rng)
        contact_account = {
            cid: c["Account_Name"]["id"] for cid, c in zip(contact_ids, contacts, strict=True) if "Account_Name" in c
        }
        products = []
        for i in range(counts.products):
            base = PRODUCTS[i % len(PRODUCTS)]
            product: dict[str, Any] = {
                "Product_Name": f"{base} {rng.choice(('Pro', 'Plus', 'Basic', 'XL', 'Mini'))} {i + 1}",
                "Product_Code": f"SKU-{10000 + i}",
                "Product_Active": rng.random() < 0.9,
                "Unit_Price": round(rng.uniform(5, 2500), 2),
                "Taxable": rng.random() < 0.7,
                "Product_Category": rng.choice(("Hardware", "Software", "CRM Applications")),
                "Qty_in_Stock": float(rng.randint(0, 500)),
                "Usage_Unit": "Hour(s)" if base in SERVICE_WORDS else "Each",
                "Product_Type": "Services" if base in SERVICE_WORDS else "Goods",
            }
            if vendor_ids and rng.random() < 0.6:
                product["Vendor_Name"] = {"id": str(rng.choice(vendor_ids))}
            products.append(product)
        _insert_rows(org, "Products", products, owners, rng)
        deals = []
        stage_weights = [3, 3, 2, 2, 1, 2, 2, 3, 2, 1]
        by_account: dict[str, list[int]] = {}
        for cid, aid in contact_account.items():
            by_account.setdefault(aid, []).append(cid)
        for i in range(counts.deals):
            stage, probability, _, _ = rng.choices(STAGES, weights=stage_weights)[0]
            amount = float(rng.randint(5, 500) * 100)
            deal: dict[str, Any] = {
                "Deal_Name": f"{rng.choice(PRODUCTS)} deal {i + 1}",
                "Stage": stage,
                "Probability": probability,
                "Pipeline": PIPELINE_NAME,
                "Amount": amount,
                "Expected_Revenue": round(amount * probability / 100, 2),
                "Closing_Date": (now() + dt.timedelta(days=rng.randint(-180, 180))).date().isoformat(),
                "Type": rng.choice(("New Business", "Existing Business")),
                "Lead_Source": rng.choice(("Web", "Partner", "Cold Call")),
            }
            if account_ids:
                aid = str(rng.choice(account_ids))
                deal["Account_Name"] = {"id": aid}
                if by_account.get(aid):
                    deal["Contact_Name"] = {"id": str(rng.choice(by_account[aid]))}
            deals.append(deal)
        _insert_rows(org, "Deals", deals, owners, rng)
    return counts.as_dict()


def sandbox_seed(*, counts: SeedCounts, reset: bool = False) -> tuple[Org, bool]:
    """Seed the default org. Returns (org, seeded); a second run does nothing unless `reset`."""
    org = default_org()
    if org is not None and not reset and Record.objects.filter(org=org).exists():
        return org, False
    org = org_create(is_default=True) if org is None else sandbox_reset_org(org=org)
    seed_data(org=org, counts=counts)
    return org, True


def sandbox_reset_org(*, org: Org) -> Org:
    """The default org back to a fresh state (settings, metadata, users, data) keeping its id and its
    administrator, so that OAuth tokens stay valid. Other orgs are deleted."""
    with transaction.atomic():
        Org.objects.exclude(pk=org.pk).delete()
        primary = primary_user(org)
        UniqueValue.objects.filter(org=org).delete()
        Record.objects.filter(org=org).delete()
        CustomView.objects.filter(org=org).delete()
        FieldDef.objects.filter(org=org).delete()
        WatchChannel.objects.filter(org=org).delete()
        Delivery.objects.filter(org=org).delete()
        Currency.objects.filter(org=org).delete()
        CrmUser.objects.filter(org=org).exclude(pk=primary.pk).delete()
        Role.objects.filter(org=org).delete()
        org.company_name = "Zylker Corp"
        org.edition = Edition.PROFESSIONAL
        org.currency_iso = "USD"
        org.mc_status = False
        org.time_zone = "America/Los_Angeles"
        org.api_credits_override = None
        org.concurrency_override = None
        org.save()
        _metadata_create(org)
        _people_create(org, primary_email=primary.email, primary=primary)
    fieldcache.invalidate()
    limits.reset()
    return org


def sandbox_reset(*, counts: SeedCounts) -> Org:
    org = default_org()
    org = org_create(is_default=True) if org is None else sandbox_reset_org(org=org)
    seed_data(org=org, counts=counts)
    return org


def org_second_create(*, company_name: str) -> Org:
    """Another org whose administrator is the same person (zuid) as the default org's: one login, two orgs."""
    default = default_org()
    if default is None:
        raise ValueError("seed the sandbox before adding a second org")
    primary = primary_user(default)
    new = org_create(company_name=company_name.strip() or "Second Org", primary_email=primary.email)
    CrmUser.objects.filter(org=new, is_admin=True).update(zuid=primary.zuid)
    fieldcache.invalidate()
    return new
