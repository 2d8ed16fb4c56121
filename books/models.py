"""The accounting domain: organizations and their members, contacts (customers and vendors) with contact
persons, items, custom field definitions, and transactions (quotes, sales orders, invoices, purchase orders,
expenses) with their lines.

Books knows nothing of the CRM except neutral fields it owns: a record's `source`, the `zcrm_*` ids that Zoho
Books' API exposes, and a transaction's deal association.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create(email, password, **extra)


class User(AbstractUser):
    """A person who signs in with an email address."""

    username = None  # type: ignore[assignment]
    email = models.EmailField("email address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email


class QuoteConversion(models.TextChoices):
    OFF = "off", "No"
    DRAFT = "draft", "Yes. Create Invoice as Draft"
    SENT = "sent", "Yes. Create and Send"


class Organization(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    email = models.EmailField(blank=True)
    country = models.CharField(max_length=100, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    base_currency = models.CharField(max_length=3, default="USD")
    # Preference: "Automatically convert an accepted quote to an invoice?"
    quote_conversion = models.CharField(max_length=10, choices=QuoteConversion.choices, default=QuoteConversion.OFF)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    ACCOUNTANT = "accountant", "Accountant"
    INTEGRATION_USER = "integration_user", "Integration User (Zoho CRM)"


class Membership(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.ACCOUNTANT)
    # For integration users: the CRM user they stand for.
    crm_user_id = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique_user_per_org"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"


class ApiToken(models.Model):
    """A token for the Books API, sent as `Authorization: Zoho-oauthtoken <token>`. Only its hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class ContactType(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    VENDOR = "vendor", "Vendor"


class CustomerSubType(models.TextChoices):
    BUSINESS = "business", "Business"
    INDIVIDUAL = "individual", "Individual"


class Status(models.TextChoices):
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"


class Source(models.TextChoices):
    BOOKS = "books", "Books"
    CRM = "crm", "Zoho CRM"


ADDRESS_PARTS = ("attention", "street", "street2", "city", "state", "zip", "country", "phone", "fax")


class Contact(models.Model):
    """A customer (business or individual) or a vendor."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="contacts")
    contact_type = models.CharField(max_length=10, choices=ContactType.choices)
    customer_sub_type = models.CharField(
        max_length=10, choices=CustomerSubType.choices, default=CustomerSubType.BUSINESS
    )
    contact_name = models.CharField("display name", max_length=200)
    company_name = models.CharField(max_length=200, blank=True)
    salutation = models.CharField(max_length=20, blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    mobile = models.CharField(max_length=50, blank=True)
    website = models.CharField(max_length=255, blank=True)
    currency_code = models.CharField(max_length=3, blank=True)
    payment_terms = models.PositiveIntegerField(default=0)
    notes = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.BOOKS)
    zcrm_account_id = models.CharField(max_length=40, blank=True)
    zcrm_contact_id = models.CharField(max_length=40, blank=True)
    zcrm_vendor_id = models.CharField(max_length=40, blank=True)
    crm_owner_id = models.CharField(max_length=40, blank=True)
    is_linked_with_zohocrm = models.GeneratedField(
        expression=models.Case(
            models.When(~Q(zcrm_account_id="") | ~Q(zcrm_contact_id="") | ~Q(zcrm_vendor_id=""), then=True),
            default=False,
            output_field=models.BooleanField(),
        ),
        output_field=models.BooleanField(),
        db_persist=True,
    )
    custom_fields = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    billing_attention = models.CharField(max_length=255, blank=True)
    billing_street = models.CharField(max_length=255, blank=True)
    billing_street2 = models.CharField(max_length=255, blank=True)
    billing_city = models.CharField(max_length=255, blank=True)
    billing_state = models.CharField(max_length=255, blank=True)
    billing_zip = models.CharField(max_length=255, blank=True)
    billing_country = models.CharField(max_length=255, blank=True)
    billing_phone = models.CharField(max_length=255, blank=True)
    billing_fax = models.CharField(max_length=255, blank=True)
    shipping_attention = models.CharField(max_length=255, blank=True)
    shipping_street = models.CharField(max_length=255, blank=True)
    shipping_street2 = models.CharField(max_length=255, blank=True)
    shipping_city = models.CharField(max_length=255, blank=True)
    shipping_state = models.CharField(max_length=255, blank=True)
    shipping_zip = models.CharField(max_length=255, blank=True)
    shipping_country = models.CharField(max_length=255, blank=True)
    shipping_phone = models.CharField(max_length=255, blank=True)
    shipping_fax = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ("contact_name", "id")
        indexes = [
            models.Index(fields=["organization", "contact_type", "contact_name"], name="contact_org_type_name"),
            models.Index(
                fields=["organization", "contact_type", "status", "contact_name"], name="contact_org_type_status"
            ),
            models.Index(
                fields=["organization", "contact_type", "is_linked_with_zohocrm", "contact_name"],
                name="contact_org_type_crm",
            ),
            models.Index(fields=["organization", "contact_type", "updated_at"], name="contact_org_type_updated"),
            models.Index(Lower("contact_name"), "organization", name="contact_org_lower_name"),
            models.Index(fields=["organization", "zcrm_account_id"], name="contact_org_zcrm_account"),
            models.Index(fields=["organization", "zcrm_contact_id"], name="contact_org_zcrm_contact"),
            models.Index(fields=["organization", "zcrm_vendor_id"], name="contact_org_zcrm_vendor"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(contact_type__in=ContactType.values), name="contact_type_valid"),
            models.CheckConstraint(
                condition=Q(customer_sub_type__in=CustomerSubType.values), name="contact_sub_type_valid"
            ),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="contact_status_valid"),
            models.CheckConstraint(condition=~Q(contact_name=""), name="contact_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.contact_name

    @property
    def is_customer(self) -> bool:
        return self.contact_type == ContactType.CUSTOMER

    def address(self, kind: str) -> dict[str, str]:
        return {part: getattr(self, f"{kind}_{part}") for part in ADDRESS_PARTS}


class ContactPerson(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="contact_persons")
    salutation = models.CharField(max_length=20, blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    mobile = models.CharField(max_length=50, blank=True)
    designation = models.CharField(max_length=100, blank=True)
    department = models.CharField(max_length=100, blank=True)
    is_primary_contact = models.BooleanField(default=False)
    zcrm_contact_id = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-is_primary_contact", "last_name", "first_name", "id")
        indexes = [models.Index(fields=["organization", "zcrm_contact_id"], name="cperson_org_zcrm_contact")]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


class ProductType(models.TextChoices):
    GOODS = "goods", "Goods"
    SERVICE = "service", "Service"


class Item(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="items")
    name = models.CharField(max_length=200)
    sku = models.CharField(max_length=100, blank=True)
    product_type = models.CharField(max_length=10, choices=ProductType.choices, default=ProductType.GOODS)
    rate = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    description = models.TextField(blank=True)
    unit = models.CharField(max_length=30, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.BOOKS)
    zcrm_product_id = models.CharField(max_length=40, blank=True)
    is_linked_with_zohocrm = models.GeneratedField(
        expression=models.Case(
            models.When(~Q(zcrm_product_id=""), then=True), default=False, output_field=models.BooleanField()
        ),
        output_field=models.BooleanField(),
        db_persist=True,
    )
    custom_fields = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ("name", "id")
        indexes = [
            models.Index(fields=["organization", "name"], name="item_org_name"),
            models.Index(fields=["organization", "status", "name"], name="item_org_status_name"),
            models.Index(fields=["organization", "is_linked_with_zohocrm", "name"], name="item_org_crm_name"),
            models.Index(fields=["organization", "updated_at"], name="item_org_updated"),
            models.Index(Lower("name"), "organization", name="item_org_lower_name"),
            models.Index(fields=["organization", "zcrm_product_id"], name="item_org_zcrm_product"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(product_type__in=ProductType.values), name="item_product_type_valid"),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="item_status_valid"),
            models.CheckConstraint(condition=Q(rate__gte=0), name="item_rate_not_negative"),
            models.CheckConstraint(condition=~Q(name=""), name="item_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class CustomFieldEntity(models.TextChoices):
    CUSTOMER = "customer", "Customers"
    VENDOR = "vendor", "Vendors"
    ITEM = "item", "Items"
    QUOTE = "quote", "Quotes"
    SALES_ORDER = "salesorder", "Sales Orders"
    INVOICE = "invoice", "Invoices"
    PURCHASE_ORDER = "purchaseorder", "Purchase Orders"
    EXPENSE = "expense", "Expenses"


class CustomFieldType(models.TextChoices):
    TEXT = "text", "Text"
    NUMBER = "number", "Number"
    DECIMAL = "decimal", "Decimal"
    DATE = "date", "Date"
    CHECKBOX = "checkbox", "Checkbox"
    PICKLIST = "picklist", "Picklist"
    EMAIL = "email", "Email"
    URL = "url", "URL"
    PHONE = "phone", "Phone"


class CustomFieldDefinition(models.Model):
    """A custom field of one entity. Values live in the entity's `custom_fields` JSON, keyed by `api_name`,
    stored in their JSON-native typed form (see books.services.custom_fields)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="custom_field_definitions")
    entity = models.CharField(max_length=20, choices=CustomFieldEntity.choices)
    label = models.CharField(max_length=100)
    api_name = models.CharField(max_length=110)
    data_type = models.CharField(max_length=10, choices=CustomFieldType.choices)
    options = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("entity", "label")
        constraints = [
            models.UniqueConstraint(fields=["organization", "entity", "api_name"], name="customfield_unique_api_name"),
            models.UniqueConstraint(fields=["organization", "entity", "label"], name="customfield_unique_label"),
            models.CheckConstraint(condition=Q(entity__in=CustomFieldEntity.values), name="customfield_entity_valid"),
            models.CheckConstraint(condition=Q(data_type__in=CustomFieldType.values), name="customfield_type_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_data_type_display()})"


class TransactionKind(models.TextChoices):
    QUOTE = "quote", "Quote"
    SALES_ORDER = "salesorder", "Sales Order"
    INVOICE = "invoice", "Invoice"
    PURCHASE_ORDER = "purchaseorder", "Purchase Order"
    EXPENSE = "expense", "Expense"


class TransactionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENT = "sent", "Sent"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    INVOICED = "invoiced", "Invoiced"
    EXPIRED = "expired", "Expired"
    OPEN = "open", "Open"
    OVERDUE = "overdue", "Overdue"
    PAID = "paid", "Paid"
    VOID = "void", "Void"
    BILLED = "billed", "Billed"
    CANCELLED = "cancelled", "Cancelled"
    UNBILLED = "unbilled", "Unbilled"
    NON_BILLABLE = "non-billable", "Non-billable"


S = TransactionStatus
STATUSES_BY_KIND: dict[str, tuple[str, ...]] = {
    TransactionKind.QUOTE: (S.DRAFT, S.SENT, S.ACCEPTED, S.DECLINED, S.INVOICED, S.EXPIRED),
    TransactionKind.SALES_ORDER: (S.DRAFT, S.OPEN, S.INVOICED, S.VOID),
    TransactionKind.INVOICE: (S.DRAFT, S.SENT, S.OVERDUE, S.PAID, S.VOID),
    TransactionKind.PURCHASE_ORDER: (S.DRAFT, S.OPEN, S.BILLED, S.CANCELLED),
    TransactionKind.EXPENSE: (S.UNBILLED, S.INVOICED, S.NON_BILLABLE),
}
NUMBER_PREFIX: dict[str, str] = {
    TransactionKind.QUOTE: "QT-",
    TransactionKind.SALES_ORDER: "SO-",
    TransactionKind.INVOICE: "INV-",
    TransactionKind.PURCHASE_ORDER: "PO-",
    TransactionKind.EXPENSE: "EXP-",
}


class Transaction(models.Model):
    """A quote, sales order, invoice, purchase order or expense. One table, `kind` telling which (as Odoo's
    account.move does with move_type): they share lines, totals, numbering and the deal association, and the
    statuses allowed for each kind are a database constraint."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="transactions")
    kind = models.CharField(max_length=15, choices=TransactionKind.choices)
    number = models.CharField(max_length=30)
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="transactions", null=True, blank=True)
    # Expenses: the customer an expense is billable to (contact is the vendor).
    customer = models.ForeignKey(
        Contact, on_delete=models.PROTECT, related_name="billable_expenses", null=True, blank=True
    )
    status = models.CharField(max_length=15, choices=TransactionStatus.choices)
    date = models.DateField()
    due_date = models.DateField(null=True, blank=True)
    reference_number = models.CharField(max_length=100, blank=True)
    currency_code = models.CharField(max_length=3)
    salesperson_name = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)
    terms = models.TextField(blank=True)
    # Expenses: the expense account (category) and whether it can be billed to a customer.
    account_name = models.CharField(max_length=100, blank=True)
    is_billable = models.BooleanField(default=False)
    sub_total = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0.00"))
    tax_total = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0.00"))
    total = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0.00"))
    converted_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="conversions"
    )
    # The CRM deal (potential) this transaction is associated with. A trigger-made association is locked.
    zcrm_potential_id = models.CharField(max_length=40, blank=True)
    zcrm_potential_name = models.CharField(max_length=255, blank=True)
    potential_locked = models.BooleanField(default=False)
    custom_fields = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-date", "-id")
        indexes = [
            models.Index(fields=["organization", "kind", "-date", "-id"], name="txn_org_kind_date"),
            models.Index(fields=["organization", "kind", "status", "-date"], name="txn_org_kind_status"),
            models.Index(fields=["organization", "kind", "contact"], name="txn_org_kind_contact"),
            models.Index(fields=["organization", "zcrm_potential_id"], name="txn_org_potential"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["organization", "kind", "number"], name="txn_unique_number"),
            models.CheckConstraint(condition=Q(kind__in=TransactionKind.values), name="txn_kind_valid"),
            models.CheckConstraint(
                condition=models.Q(
                    *[Q(kind=kind, status__in=statuses) for kind, statuses in STATUSES_BY_KIND.items()],
                    _connector=Q.OR,
                ),
                name="txn_status_valid_for_kind",
            ),
            models.CheckConstraint(condition=Q(total__gte=0) & Q(sub_total__gte=0), name="txn_totals_not_negative"),
            models.CheckConstraint(
                condition=Q(kind=TransactionKind.EXPENSE) | Q(contact__isnull=False), name="txn_contact_required"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"


class TransactionLine(models.Model):
    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    item = models.ForeignKey(Item, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    quantity = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal("1"))
    rate = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    tax_percentage = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal("0"))
    amount = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0.00"))

    class Meta:
        ordering = ("position", "id")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="line_quantity_positive"),
            models.CheckConstraint(condition=Q(rate__gte=0), name="line_rate_not_negative"),
            models.CheckConstraint(
                condition=Q(tax_percentage__gte=0) & Q(tax_percentage__lte=100), name="line_tax_in_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DocumentSequence(models.Model):
    """The next number of each transaction kind, per organization."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=15, choices=TransactionKind.choices)
    prefix = models.CharField(max_length=10)
    next_number = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "kind"], name="docseq_unique_kind")]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.kind} {self.prefix}{self.next_number}"
