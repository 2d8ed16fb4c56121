"""What the deal-stage triggers keep.

- `TriggerPreference`: per connection, the seed's "Automate Based on the Deal/Potential's Stage" choice: Quote
  (with its Create Quote and Approve Quote stages), Invoice, or off; plus the Deals pipeline's stages as they
  were when the preference was saved, so a notification can tell "reached the stage" without asking the CRM for
  the pipeline again.
- `NotificationChannel`: the CRM's `actions/watch` channel of a connection. The token the CRM echoes in every
  notification is stored only as a SHA-256 hash (the previous one stays valid for a short grace after a renewal,
  for notifications already on their way).
- `DealEvent`: one deal of one received notification. `dedup_key` is unique, so a repeated delivery inserts
  nothing (INSERT … ON CONFLICT DO NOTHING) and enqueues nothing.
- `DealAction`: a transition done for a deal (create quote, approve, decline, create invoice, void), unique per
  organization, deal and action: each happens at most once however many deliveries arrive and in whatever order,
  even with concurrent workers (the insert is in the same transaction as the Books write).
- `DealLock`: one row per deal, locked with SELECT … FOR UPDATE while a deal's actions are decided and applied.
- `TriggerLog`: every action and every refusal with its reason; the "Deal triggers" panel of Show Sync History.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class TriggerMode(models.TextChoices):
    OFF = "off", "Off"
    QUOTE = "quote", "Quote"
    INVOICE = "invoice", "Invoice"


class TriggerPreference(models.Model):
    connection = models.OneToOneField(
        "crm_integration.CrmConnection", on_delete=models.CASCADE, related_name="trigger_preference"
    )
    mode = models.CharField(max_length=10, choices=TriggerMode.choices, default=TriggerMode.OFF)
    create_quote_stage = models.CharField(max_length=120, blank=True)
    approve_quote_stage = models.CharField(max_length=120, blank=True)
    # [{"name", "probability", "forecast_type", "sequence"}] of the Deals pipeline(s) when saved.
    pipeline_stages = models.JSONField(default=list, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(mode__in=TriggerMode.values), name="triggerpref_mode_valid"),
            models.CheckConstraint(
                condition=~Q(mode=TriggerMode.QUOTE) | ~Q(create_quote_stage=""),
                name="triggerpref_quote_needs_create_stage",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.connection_id}: {self.mode}"


class ChannelStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    DISABLED = "disabled", "Disabled"


class NotificationChannel(models.Model):
    connection = models.ForeignKey(
        "crm_integration.CrmConnection", on_delete=models.CASCADE, related_name="notification_channels"
    )
    organization = models.ForeignKey("books.Organization", on_delete=models.CASCADE, related_name="+")
    crm_org_id = models.CharField(max_length=40)
    # Zoho wants a number (a long) as the channel id.
    channel_id = models.CharField(max_length=20, unique=True)
    token_hash = models.CharField(max_length=64)
    previous_token_hash = models.CharField(max_length=64, blank=True)
    previous_token_valid_until = models.DateTimeField(null=True, blank=True)
    notify_url = models.CharField(max_length=500)
    events = models.JSONField(default=list)
    expires_at = models.DateTimeField(null=True, blank=True)
    # A renewal in progress holds this lease, so overlapping beat runs never renew (and rotate) a channel twice.
    renewal_claimed_until = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=ChannelStatus.choices, default=ChannelStatus.ACTIVE)
    status_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["status", "expires_at"], name="notifchannel_due")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ChannelStatus.values), name="notifchannel_status_valid"),
            models.CheckConstraint(condition=~Q(channel_id="") & ~Q(token_hash=""), name="notifchannel_not_empty"),
        ]

    def __str__(self) -> str:
        return f"channel {self.channel_id} ({self.status})"


class EventStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed"


class DealEvent(models.Model):
    channel = models.ForeignKey(NotificationChannel, on_delete=models.CASCADE, related_name="events_received")
    organization = models.ForeignKey("books.Organization", on_delete=models.CASCADE, related_name="+")
    dedup_key = models.CharField(max_length=64, unique=True)
    module = models.CharField(max_length=40)
    deal_id = models.CharField(max_length=40)
    operation = models.CharField(max_length=20, blank=True)
    server_time = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=EventStatus.choices, default=EventStatus.RECEIVED)
    result = models.TextField(blank=True)
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "deal_id"], name="dealevent_org_deal")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=EventStatus.values), name="dealevent_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.module} {self.deal_id} {self.operation} ({self.status})"


class ActionKind(models.TextChoices):
    CREATE_QUOTE = "create_quote", "Create Quote"
    APPROVE_QUOTE = "approve_quote", "Approve Quote"
    DECLINE_QUOTE = "decline_quote", "Decline Quote"
    CREATE_INVOICE = "create_invoice", "Create Invoice"
    VOID_INVOICE = "void_invoice", "Void Invoice"


class DealAction(models.Model):
    organization = models.ForeignKey("books.Organization", on_delete=models.CASCADE, related_name="+")
    deal_id = models.CharField(max_length=40)
    action = models.CharField(max_length=20, choices=ActionKind.choices)
    txn = models.ForeignKey("books.Transaction", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    event = models.ForeignKey(DealEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "deal_id", "action"], name="dealaction_once_per_deal"),
            models.CheckConstraint(condition=Q(action__in=ActionKind.values), name="dealaction_action_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.deal_id} {self.action}"


class DealLock(models.Model):
    organization = models.ForeignKey("books.Organization", on_delete=models.CASCADE, related_name="+")
    deal_id = models.CharField(max_length=40)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "deal_id"], name="deallock_unique")]

    def __str__(self) -> str:
        return f"lock {self.deal_id}"


class LogOutcome(models.TextChoices):
    DONE = "done", "Done"
    REFUSED = "refused", "Refused"
    FAILED = "failed", "Failed"
    INFO = "info", "Info"


class TriggerLog(models.Model):
    organization = models.ForeignKey("books.Organization", on_delete=models.CASCADE, related_name="+")
    deal_id = models.CharField(max_length=40, blank=True)
    deal_name = models.CharField(max_length=255, blank=True)
    action = models.CharField(max_length=20, blank=True)
    outcome = models.CharField(max_length=10, choices=LogOutcome.choices)
    reason = models.TextField(blank=True)
    txn = models.ForeignKey("books.Transaction", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    event = models.ForeignKey(DealEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["organization", "-created_at"], name="triggerlog_org_recent")]
        constraints = [
            models.CheckConstraint(condition=Q(outcome__in=LogOutcome.values), name="triggerlog_outcome_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.deal_id} {self.action} {self.outcome}"
