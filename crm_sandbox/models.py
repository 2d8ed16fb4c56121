"""The sandbox CRM's data: orgs, their users and roles, field definitions, records, views, OAuth, notification
channels and the outbox of deliveries, and the fault settings.

Records keep their fields as JSON in one row each (`Record.data`), with indexed columns for what lists, sorts,
duplicate checks and If-Modified-Since need; that keeps a 200-record page one query. Ids are 19-digit numbers,
rendered as strings as Zoho does.
"""

from __future__ import annotations

from django.db import models

from crm_sandbox.schema import MODULES

MODULE_CHOICES = [(m, m) for m in MODULES]


class Edition(models.TextChoices):
    FREE = "free", "Free"
    STANDARD = "standard", "Standard"
    PROFESSIONAL = "professional", "Professional"
    ENTERPRISE = "enterprise", "Enterprise"
    ULTIMATE = "ultimate", "Ultimate"


class Org(models.Model):
    id = models.BigIntegerField(primary_key=True)
    zgid = models.CharField(max_length=20, unique=True)
    company_name = models.CharField(max_length=120)
    domain_name = models.CharField(max_length=60)
    edition = models.CharField(max_length=20, choices=Edition.choices, default=Edition.PROFESSIONAL)
    currency_iso = models.CharField("base currency", max_length=3, default="USD")
    mc_status = models.BooleanField("multi-currency enabled", default=False)
    time_zone = models.CharField(max_length=60, default="America/Los_Angeles")
    country_code = models.CharField(max_length=2, default="US")
    primary_email = models.EmailField(default="")
    is_default = models.BooleanField(default=False)
    # Test knobs: None means the edition's figure (reference §11).
    api_credits_override = models.PositiveIntegerField(null=True, blank=True)
    concurrency_override = models.PositiveIntegerField(null=True, blank=True)
    created_time = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.company_name


class Currency(models.Model):
    id = models.BigIntegerField(primary_key=True)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="currencies")
    iso_code = models.CharField(max_length=3)
    name = models.CharField(max_length=80)
    symbol = models.CharField(max_length=8)
    exchange_rate = models.DecimalField(max_digits=18, decimal_places=9, default=1)
    is_base = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_time = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_base", "iso_code"]
        constraints = [models.UniqueConstraint(fields=["org", "iso_code"], name="crm_currency_unique_iso")]

    def __str__(self) -> str:
        return self.name


class Role(models.Model):
    id = models.BigIntegerField(primary_key=True)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="roles")
    name = models.CharField(max_length=60)
    reporting_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL)
    admin_user = models.BooleanField(default=False)
    share_with_peers = models.BooleanField(default=True)
    created_time = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["org", "name"], name="crm_role_unique_name")]

    def __str__(self) -> str:
        return self.name


class CrmUser(models.Model):
    """A CRM user (an owner of records), not a login of the sandbox's own pages."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        DISABLED = "disabled", "Disabled"

    id = models.BigIntegerField(primary_key=True)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="users")
    zuid = models.CharField(max_length=20, blank=True, help_text="Zoho user id; the same in every org of one person.")
    first_name = models.CharField(max_length=60, blank=True)
    last_name = models.CharField(max_length=60)
    email = models.EmailField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    role = models.ForeignKey(Role, null=True, blank=True, on_delete=models.SET_NULL)
    profile_name = models.CharField(max_length=40, default="Standard")
    is_admin = models.BooleanField(default=False)
    modified_time = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["org", "email"], name="crm_user_unique_email")]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class FieldDef(models.Model):
    """One field of a module, standard or custom, as `GET /settings/fields` shows it."""

    id = models.BigIntegerField(primary_key=True)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="fields")
    module = models.CharField(max_length=40)
    api_name = models.CharField(max_length=100)
    field_label = models.CharField(max_length=100)
    data_type = models.CharField(max_length=30)
    json_type = models.CharField(max_length=20, default="string")
    length = models.PositiveIntegerField(null=True, blank=True)
    decimal_place = models.PositiveSmallIntegerField(null=True, blank=True)
    custom_field = models.BooleanField(default=False)
    system_mandatory = models.BooleanField(default=False)
    read_only = models.BooleanField(default=False)
    unique = models.BooleanField(default=False)
    unique_casesensitive = models.BooleanField(default=False)
    external = models.BooleanField(default=False)
    pick_list_values = models.JSONField(default=list, blank=True)  # list of strings (or dicts for Stage)
    lookup_module = models.CharField(max_length=40, blank=True)
    sequence = models.PositiveIntegerField(default=0)
    created_time = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sequence", "id"]
        constraints = [models.UniqueConstraint(fields=["org", "module", "api_name"], name="crm_field_unique_api_name")]

    def __str__(self) -> str:
        return f"{self.module}.{self.api_name}"


class Record(models.Model):
    id = models.BigIntegerField(primary_key=True)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="records")
    module = models.CharField(max_length=40)
    data = models.JSONField(default=dict)
    # The system duplicate-check value (Account_Name, Deal_Name, …; Full_Name for contacts), lower-cased.
    name = models.CharField(max_length=255, blank=True)
    email = models.CharField(max_length=255, blank=True)
    owner = models.ForeignKey(CrmUser, null=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(CrmUser, null=True, on_delete=models.SET_NULL, related_name="+")
    modified_by = models.ForeignKey(CrmUser, null=True, on_delete=models.SET_NULL, related_name="+")
    created_time = models.DateTimeField()
    modified_time = models.DateTimeField()
    deleted_time = models.DateTimeField(null=True, blank=True)  # set: in the recycle bin (NULL is indexable)
    deleted_by = models.ForeignKey(CrmUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [
            models.Index(fields=["org", "module", "deleted_time", "id"], name="crm_rec_list"),
            models.Index(fields=["org", "module", "deleted_time", "modified_time", "id"], name="crm_rec_modified"),
            models.Index(fields=["org", "module", "deleted_time", "created_time", "id"], name="crm_rec_created"),
            models.Index(fields=["org", "module", "name"], name="crm_rec_name"),
            models.Index(fields=["org", "module", "email"], name="crm_rec_email"),
        ]

    def __str__(self) -> str:
        return f"{self.module} {self.id}"


class UniqueValue(models.Model):
    """Values of user-defined unique fields: the database refuses a second record with the same value."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE)
    module = models.CharField(max_length=40)
    api_name = models.CharField(max_length=100)
    value = models.CharField(max_length=255)
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="unique_values")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "module", "api_name", "value"], name="crm_unique_value"),
        ]

    def __str__(self) -> str:
        return f"{self.module}.{self.api_name}={self.value}"


class CustomView(models.Model):
    class Category(models.TextChoices):
        PUBLIC = "public_views", "Public views"
        OTHER_USERS = "other_users_views", "Other users' views"
        SHARED = "shared_with_me", "Shared with me"
        CREATED_BY_ME = "created_by_me", "Created by me"

    id = models.BigIntegerField(primary_key=True)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="views")
    module = models.CharField(max_length=40, choices=MODULE_CHOICES)
    name = models.CharField(max_length=100)
    system_name = models.CharField(max_length=40, blank=True)
    system_defined = models.BooleanField(default=False)
    category = models.CharField(max_length=30, choices=Category.choices, default=Category.PUBLIC)
    is_default = models.BooleanField(default=False)
    # Zoho's criteria JSON: {"comparator","field":{"api_name"},"value"} or {"group_operator","group":[…]}.
    criteria = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(CrmUser, null=True, blank=True, on_delete=models.SET_NULL)
    created_time = models.DateTimeField(auto_now_add=True)
    modified_time = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["org", "module", "name"], name="crm_view_unique_name")]

    def __str__(self) -> str:
        return f"{self.module}: {self.name}"


class OAuthClient(models.Model):
    # The sandbox is a stand-in CRM: its own client secret and tokens are test data, kept readable so that
    # `crm_sandbox credentials` can print them. Ledgerbridge encrypts what it stores of them.
    client_id = models.CharField(max_length=60, unique=True)
    client_secret = models.CharField(max_length=80)
    name = models.CharField(max_length=80, default="Ledgerbridge")
    redirect_uris = models.TextField(blank=True, help_text="One per line; empty accepts any.")
    created_time = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class GrantCode(models.Model):
    code = models.CharField(max_length=80, unique=True)
    client = models.ForeignKey(OAuthClient, on_delete=models.CASCADE)
    user = models.ForeignKey(CrmUser, on_delete=models.CASCADE)
    scope = models.TextField(blank=True)
    redirect_uri = models.TextField(blank=True)
    expires_at = models.DateTimeField()
    used = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"grant for {self.user_id}"


class RefreshToken(models.Model):
    token = models.CharField(max_length=120, unique=True)
    client = models.ForeignKey(OAuthClient, on_delete=models.CASCADE)
    user = models.ForeignKey(CrmUser, on_delete=models.CASCADE)
    scope = models.TextField(blank=True)
    revoked = models.BooleanField(default=False)
    created_time = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"refresh token of {self.user_id}"


class AccessToken(models.Model):
    token = models.CharField(max_length=120, unique=True)
    refresh_token = models.ForeignKey(RefreshToken, on_delete=models.CASCADE, related_name="access_tokens")
    expires_at = models.DateTimeField()
    revoked = models.BooleanField(default=False)
    created_time = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"access token {self.pk}"


class WatchChannel(models.Model):
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="channels")
    channel_id = models.BigIntegerField()
    events = models.JSONField(default=list)  # ["Deals.create", "Deals.edit", …]
    notify_url = models.URLField(max_length=1000)
    token = models.CharField(max_length=50, blank=True)
    channel_expiry = models.DateTimeField()
    notification_condition = models.JSONField(default=list, blank=True)
    return_affected_field_values = models.BooleanField(default=False)
    notify_on_related_action = models.BooleanField(default=True)
    created_by = models.ForeignKey(CrmUser, null=True, on_delete=models.SET_NULL)
    created_time = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["channel_id"]
        constraints = [models.UniqueConstraint(fields=["org", "channel_id"], name="crm_channel_unique")]

    def __str__(self) -> str:
        return str(self.channel_id)


class Delivery(models.Model):
    """The outbox: one notification to POST to a channel's notify_url; the deliverer thread works through it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="deliveries")
    channel_id = models.BigIntegerField()
    notify_url = models.URLField(max_length=1000)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_status_code = models.IntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_time = models.DateTimeField(auto_now_add=True)
    delivered_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="crm_delivery_due")]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"delivery {self.pk} to channel {self.channel_id}"


class FaultConfig(models.Model):
    """Fault injection on `/crm/v8/` calls (a singleton row; CRM_SANDBOX_FAULTS seeds it at start)."""

    rate_5xx = models.FloatField("5xx rate", default=0)
    rate_429 = models.FloatField("429 rate", default=0)
    rate_slow = models.FloatField("slow answer rate", default=0)
    rate_drop = models.FloatField("dropped connection rate", default=0)
    rate_expired = models.FloatField("expired token rate", default=0)
    rate_after_write = models.FloatField("drop after a committed write rate", default=0)
    slow_ms = models.PositiveIntegerField(default=1500)
    seed = models.IntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rate_5xx__gte=0, rate_5xx__lte=1)
                & models.Q(rate_429__gte=0, rate_429__lte=1)
                & models.Q(rate_slow__gte=0, rate_slow__lte=1)
                & models.Q(rate_drop__gte=0, rate_drop__lte=1)
                & models.Q(rate_expired__gte=0, rate_expired__lte=1)
                & models.Q(rate_after_write__gte=0, rate_after_write__lte=1),
                name="crm_fault_rates_between_0_and_1",
            )
        ]

    def __str__(self) -> str:
        return "Fault settings"


class IdSequence(models.Model):
    """Hands out blocks of record/metadata ids; one row."""

    next_value = models.BigIntegerField(default=1_000_000)

    def __str__(self) -> str:
        return str(self.next_value)
