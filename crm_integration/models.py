"""The connection of a Books organization to a CRM organization, and what it syncs.

- `CrmConnection`: one per Books organization (no row = not connected): where the CRM is, the encrypted
  credentials, which CRM org, its edition and currency, whether this connection may push (two-way), and the
  sync schedule options the engine reads (paused, interval, next/last sync).
- `ModuleConfig`: per module (customers, vendors, items) the choices of the Configure Now wizard: CRM module,
  extent, duplicate handling, view(s), and whether the module takes part in syncs.
- `FieldMapping`: one Books field ⇄ one CRM field of a module config.
- `PendingConnection` and `ModuleConfigDraft`: what a person has entered but not saved yet (the OAuth hand-off
  before the CRM org is chosen; the wizard between its steps), kept server-side as data.

Secrets (client secret, refresh token) are stored only as Fernet ciphertext (crm_integration.crypto); nothing
here decrypts them. `crm_integration.services.connections.connection_credentials` is the one place that does.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Provider(models.TextChoices):
    ZOHO = "zoho", "Zoho CRM"


class ConnectionStatus(models.TextChoices):
    CONNECTED = "connected", "Connected"
    DISABLED = "disabled", "Disabled"
    NEEDS_REAUTH = "needs_reauth", "Needs new credentials"


class DataCenter(models.TextChoices):
    US = "us", "United States (zoho.com)"
    EU = "eu", "Europe (zoho.eu)"
    IN = "in", "India (zoho.in)"
    AU = "au", "Australia (zoho.com.au)"
    JP = "jp", "Japan (zoho.jp)"
    CN = "cn", "China (zoho.com.cn)"
    CA = "ca", "Canada (zohocloud.ca)"
    SA = "sa", "Saudi Arabia (zoho.sa)"
    CUSTOM = "custom", "Custom (a sandbox or another host)"


SYNC_INTERVAL_MIN = 5
SYNC_INTERVAL_MAX = 1440
SYNC_INTERVAL_DEFAULT = 120


class CrmConnection(models.Model):
    organization = models.OneToOneField("books.Organization", on_delete=models.CASCADE, related_name="crm_connection")
    provider = models.CharField(max_length=20, choices=Provider.choices, default=Provider.ZOHO)
    status = models.CharField(max_length=20, choices=ConnectionStatus.choices, default=ConnectionStatus.CONNECTED)
    # Why the status is what it is when it is not "connected" (e.g. the CRM refused the refresh token).
    status_reason = models.CharField(max_length=500, blank=True)

    data_center = models.CharField(max_length=10, choices=DataCenter.choices, default=DataCenter.US)
    accounts_url = models.CharField(max_length=255)
    api_domain = models.CharField(max_length=255)
    client_id = models.CharField(max_length=200)
    encrypted_client_secret = models.TextField()
    encrypted_refresh_token = models.TextField()

    crm_org_id = models.CharField(max_length=40)
    crm_org_name = models.CharField(max_length=255, blank=True)
    crm_edition = models.CharField(max_length=40, blank=True)
    crm_currency = models.CharField(max_length=3, blank=True)
    crm_user_email = models.CharField(max_length=255, blank=True)

    # False for a Books org connecting to a CRM org another Books org already syncs both ways: this one can only
    # fetch from the CRM (the seed: "it will be a one-way sync").
    two_way_allowed = models.BooleanField(default=True)
    paused = models.BooleanField(default=False)
    sync_interval_minutes = models.PositiveIntegerField(default=SYNC_INTERVAL_DEFAULT)
    next_sync_at = models.DateTimeField(null=True, blank=True)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    transactions_enabled = models.BooleanField(default=False)

    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    connected_at = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["provider", "crm_org_id"], name="crmconn_provider_org"),
            models.Index(fields=["status", "paused", "next_sync_at"], name="crmconn_due"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(provider__in=Provider.values), name="crmconn_provider_valid"),
            models.CheckConstraint(condition=Q(status__in=ConnectionStatus.values), name="crmconn_status_valid"),
            models.CheckConstraint(condition=Q(data_center__in=DataCenter.values), name="crmconn_data_center_valid"),
            models.CheckConstraint(
                condition=Q(sync_interval_minutes__gte=SYNC_INTERVAL_MIN)
                & Q(sync_interval_minutes__lte=SYNC_INTERVAL_MAX),
                name="crmconn_interval_in_range",
            ),
            models.CheckConstraint(
                condition=~Q(accounts_url="") & ~Q(api_domain="") & ~Q(client_id="") & ~Q(crm_org_id=""),
                name="crmconn_required_not_empty",
            ),
            # At most one Books org syncs a CRM org both ways; every other live connection to it is one way.
            models.UniqueConstraint(
                fields=["provider", "crm_org_id"],
                condition=Q(two_way_allowed=True) & ~Q(status=ConnectionStatus.DISABLED),
                name="crmconn_one_two_way_per_crm_org",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} → {self.get_provider_display()} {self.crm_org_name or self.crm_org_id}"

    @property
    def is_active(self) -> bool:
        """Connected and not disabled: the engine may sync it (unless paused)."""
        return self.status == ConnectionStatus.CONNECTED


class SyncModule(models.TextChoices):
    CUSTOMERS = "customers", "Customers"
    VENDORS = "vendors", "Vendors"
    ITEMS = "items", "Items"


# The order in which a run syncs the modules (DESIGN.md: customers → vendors → items).
MODULE_ORDER: tuple[str, ...] = (SyncModule.CUSTOMERS, SyncModule.VENDORS, SyncModule.ITEMS)


class CrmModuleOption(models.TextChoices):
    ACCOUNTS = "accounts", "Accounts"
    CONTACTS = "contacts", "Contacts"
    ACCOUNTS_AND_CONTACTS = "accounts_and_contacts", "Accounts and their Contacts"


class SyncExtent(models.TextChoices):
    FETCH_FROM_CRM = "fetch_from_crm", "Fetch from CRM"
    BOTH_WAYS = "both_ways", "Sync both ways"


class DuplicatePolicy(models.TextChoices):
    CLONE = "clone", "Clone"
    OVERWRITE = "overwrite", "Overwrite"
    SKIP = "skip", "Skip"


class CrmModule(models.TextChoices):
    """The CRM modules a Books entity syncs with (their API names)."""

    ACCOUNTS = "Accounts", "Accounts"
    CONTACTS = "Contacts", "Contacts"
    VENDORS = "Vendors", "Vendors"
    PRODUCTS = "Products", "Products"


class ModuleConfig(models.Model):
    connection = models.ForeignKey(CrmConnection, on_delete=models.CASCADE, related_name="module_configs")
    module = models.CharField(max_length=20, choices=SyncModule.choices)
    # Customers only: which CRM module(s) become customers.
    crm_module_option = models.CharField(max_length=30, choices=CrmModuleOption.choices, blank=True)
    include_orphan_contacts = models.BooleanField(default=False)
    extent = models.CharField(max_length=20, choices=SyncExtent.choices, default=SyncExtent.FETCH_FROM_CRM)
    duplicates = models.CharField(max_length=20, choices=DuplicatePolicy.choices, default=DuplicatePolicy.SKIP)
    # The account view (customers) or the vendor / product view; empty = all records.
    primary_view_id = models.CharField(max_length=40, blank=True)
    primary_view_name = models.CharField(max_length=255, blank=True)
    # The contact view, when customers sync Accounts and their Contacts.
    secondary_view_id = models.CharField(max_length=40, blank=True)
    secondary_view_name = models.CharField(max_length=255, blank=True)
    # Configured and included in syncs.
    enabled = models.BooleanField(default=False)
    configured_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("connection", "module")
        constraints = [
            models.UniqueConstraint(fields=["connection", "module"], name="moduleconfig_unique_module"),
            models.CheckConstraint(condition=Q(module__in=SyncModule.values), name="moduleconfig_module_valid"),
            models.CheckConstraint(condition=Q(extent__in=SyncExtent.values), name="moduleconfig_extent_valid"),
            models.CheckConstraint(
                condition=Q(duplicates__in=DuplicatePolicy.values), name="moduleconfig_duplicates_valid"
            ),
            models.CheckConstraint(
                condition=(Q(module=SyncModule.CUSTOMERS) & Q(crm_module_option__in=CrmModuleOption.values))
                | (~Q(module=SyncModule.CUSTOMERS) & Q(crm_module_option="")),
                name="moduleconfig_crm_module_option_valid",
            ),
            models.CheckConstraint(
                condition=Q(include_orphan_contacts=False) | Q(crm_module_option=CrmModuleOption.ACCOUNTS_AND_CONTACTS),
                name="moduleconfig_orphans_only_with_accounts_and_contacts",
            ),
            models.CheckConstraint(
                condition=(Q(secondary_view_id="") & Q(secondary_view_name=""))
                | Q(crm_module_option=CrmModuleOption.ACCOUNTS_AND_CONTACTS),
                name="moduleconfig_secondary_view_only_with_accounts_and_contacts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.connection_id} {self.module}"

    @property
    def crm_modules(self) -> tuple[str, ...]:
        """The CRM modules (API names) this config reads, primary first."""
        if self.module == SyncModule.VENDORS:
            return (CrmModule.VENDORS.value,)
        if self.module == SyncModule.ITEMS:
            return (CrmModule.PRODUCTS.value,)
        if self.crm_module_option == CrmModuleOption.CONTACTS:
            return (CrmModule.CONTACTS.value,)
        if self.crm_module_option == CrmModuleOption.ACCOUNTS:
            return (CrmModule.ACCOUNTS.value,)
        return (CrmModule.ACCOUNTS.value, CrmModule.CONTACTS.value)


class FieldMapping(models.Model):
    """One Books field ⇄ one CRM field. `books_field` is a Books field name (`billing_city`) or `cf:<api_name>`
    for a Books custom field; `crm_field` the CRM field's API name. The data types are the ones checked
    compatible when the map was saved (crm_integration.mapping)."""

    module_config = models.ForeignKey(ModuleConfig, on_delete=models.CASCADE, related_name="field_mappings")
    crm_module = models.CharField(max_length=20, choices=CrmModule.choices)
    books_field = models.CharField(max_length=120)
    crm_field = models.CharField(max_length=120)
    crm_data_type = models.CharField(max_length=40)
    books_data_type = models.CharField(max_length=40)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ("module_config", "crm_module", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["module_config", "crm_module", "books_field"], name="fieldmapping_unique_books_field"
            ),
            models.CheckConstraint(condition=Q(crm_module__in=CrmModule.values), name="fieldmapping_crm_module_valid"),
            models.CheckConstraint(
                condition=~Q(books_field="") & ~Q(crm_field="") & ~Q(crm_data_type="") & ~Q(books_data_type=""),
                name="fieldmapping_not_empty",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.crm_module}.{self.crm_field} ⇄ {self.books_field}"


class ConnectMethod(models.TextChoices):
    OAUTH = "oauth", "Sign in to Zoho (OAuth)"
    SELF_CLIENT = "self_client", "Self Client (grant code)"
    FILE = "file", "Integration file"


class PendingConnection(models.Model):
    """A connection being made: credentials entered and (once authorized) a refresh token, before the admin
    chooses the CRM org and saves. The OAuth `state` is kept as a hash and is also bound to the session.
    Expires after PENDING_TTL (services)."""

    organization = models.OneToOneField(
        "books.Organization", on_delete=models.CASCADE, related_name="crm_pending_connection"
    )
    method = models.CharField(max_length=20, choices=ConnectMethod.choices)
    data_center = models.CharField(max_length=10, choices=DataCenter.choices)
    accounts_url = models.CharField(max_length=255)
    api_domain = models.CharField(max_length=255, blank=True)
    client_id = models.CharField(max_length=200)
    encrypted_client_secret = models.TextField()
    encrypted_refresh_token = models.TextField(blank=True)
    state_hash = models.CharField(max_length=64, blank=True)
    # The CRM orgs this token reaches, as plain facts ({"id", "name", "edition", "currency", ...}).
    crm_orgs = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(method__in=ConnectMethod.values), name="pendingconn_method_valid"),
            models.CheckConstraint(condition=Q(data_center__in=DataCenter.values), name="pendingconn_dc_valid"),
        ]

    def __str__(self) -> str:
        return f"pending {self.organization_id} ({self.method})"

    @property
    def authorized(self) -> bool:
        return bool(self.encrypted_refresh_token)


class ModuleConfigDraft(models.Model):
    """The Configure Now wizard between its steps: the step reached and the values chosen so far (validated at
    each step and again when saved). One per connection and module; deleted on save."""

    connection = models.ForeignKey(CrmConnection, on_delete=models.CASCADE, related_name="drafts")
    module = models.CharField(max_length=20, choices=SyncModule.choices)
    step = models.PositiveSmallIntegerField(default=1)
    data = models.JSONField(default=dict, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "module"], name="moduledraft_unique_module"),
            models.CheckConstraint(condition=Q(module__in=SyncModule.values), name="moduledraft_module_valid"),
            models.CheckConstraint(condition=Q(step__gte=1) & Q(step__lte=5), name="moduledraft_step_in_range"),
        ]

    def __str__(self) -> str:
        return f"draft {self.connection_id} {self.module} step {self.step}"
