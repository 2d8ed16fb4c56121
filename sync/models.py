"""What the sync engine keeps: the links between Books records and CRM records, the history of runs (with their
per-module counts and every failure), the cursors of incremental pulls and pushes, the per-connection lease that
keeps two runs from overlapping, and the bits that make CRM inserts recoverable after a crash.

- `RecordLink`: one Books record ⇄ one CRM record. Keyed by the Books organization and the CRM org id — not by
  the connection row — so links survive Pause, Disable and Enable, and connecting again to the same CRM org never
  duplicates anything, while pointing the connection at another CRM org starts from nothing. Two content hashes
  (what the CRM side held, what the Books side held, both at the last sync) tell which side changed since.
- `SyncRun` (+ `SyncRunModule` counts per module and direction, `SyncFailure` per record): the Show Sync History.
- `SyncCursor`: per organization, CRM org and lane (e.g. "pull:Accounts:<view id>"): the CRM Modified_Time high
  water mark, the Books updated_at high water mark of pushes, when deletions were last checked, and a fingerprint of
  the view and field map (a change means a full pull: "Edit applies from the next run").
- `SyncLock`: a lease per connection, taken and renewed with conditional UPDATEs (works on SQLite and PostgreSQL);
  a killed worker's lease simply expires.
- `CrmIdField`: the CRM field holding Ledgerbridge's id of a record (`lb:<org>:<entity>:<books id>`), a unique
  text field the engine creates so that its inserts are upserts on it; or the fallback mode when the CRM refused.
- `PushIntent`: the fallback when there is no such field: an insert about to be sent, checked before retrying.
- `DeferredRecord`: a CRM contact whose account is not linked yet (Accounts and their Contacts), applied as a
  contact person as soon as the account is.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Entity(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    VENDOR = "vendor", "Vendor"
    ITEM = "item", "Item"
    CONTACT_PERSON = "contact_person", "Contact person"


class LinkState(models.TextChoices):
    LINKED = "linked", "Linked"
    # A duplicate the policy said to skip: neither side syncs it, and it stays that way until the policy changes.
    SKIPPED = "skipped", "Skipped duplicate"


class RecordLink(models.Model):
    organization = models.ForeignKey("books.Organization", on_delete=models.CASCADE, related_name="+")
    crm_org_id = models.CharField(max_length=40)
    crm_module = models.CharField(max_length=20)
    crm_id = models.CharField(max_length=40)
    entity = models.CharField(max_length=20, choices=Entity.choices)
    books_id = models.BigIntegerField()
    state = models.CharField(max_length=10, choices=LinkState.choices, default=LinkState.LINKED)
    # Hashes of the synced content at the last sync, each in its own side's terms: the CRM record's mapped fields,
    # and the Books record's mapped fields. Equal hash = that side did not change since.
    crm_hash = models.CharField(max_length=32, blank=True)
    books_hash = models.CharField(max_length=32, blank=True)
    crm_modified_time = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField()
    crm_deleted = models.BooleanField(default=False)
    books_deleted = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "crm_org_id", "crm_module", "crm_id"], name="recordlink_unique_crm_record"
            ),
            models.UniqueConstraint(
                fields=["organization", "crm_org_id", "entity", "books_id", "crm_module"],
                name="recordlink_unique_books_record",
            ),
            models.CheckConstraint(condition=Q(entity__in=Entity.values), name="recordlink_entity_valid"),
            models.CheckConstraint(condition=Q(state__in=LinkState.values), name="recordlink_state_valid"),
            models.CheckConstraint(condition=~Q(crm_id="") & ~Q(crm_org_id=""), name="recordlink_ids_not_empty"),
        ]
        indexes = [
            models.Index(fields=["organization", "crm_org_id", "entity", "books_id"], name="recordlink_books"),
        ]

    def __str__(self) -> str:
        return f"{self.entity} {self.books_id} ⇄ {self.crm_module} {self.crm_id}"


class Trigger(models.TextChoices):
    AUTO = "auto", "Automatic"
    MANUAL = "manual", "Manual"
    INSTANT = "instant", "Instant Sync"
    INITIAL = "initial", "Save and Sync"
    SINGLE_RECORD = "single_record", "Single record"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Completed with failures"
    FAILED = "failed", "Failed"
    REFUSED = "refused", "Not run"


FINISHED_STATUSES = (RunStatus.SUCCEEDED, RunStatus.PARTIAL, RunStatus.FAILED, RunStatus.REFUSED)


class SyncRun(models.Model):
    organization = models.ForeignKey("books.Organization", on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(
        "crm_integration.CrmConnection", on_delete=models.SET_NULL, null=True, blank=True, related_name="sync_runs"
    )
    crm_org_id = models.CharField(max_length=40)
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    # The modules asked for ([] = every enabled module).
    modules = models.JSONField(default=list, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    # Things the admin should know that are not failures of a record (e.g. how CRM inserts are made recoverable).
    notes = models.JSONField(default=list, blank=True)
    # Live progress: what is being done, how many records were handled, and the total when it is known.
    phase = models.CharField(max_length=200, blank=True)
    processed = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-queued_at", "-id")
        indexes = [
            models.Index(fields=["organization", "-queued_at"], name="syncrun_org_recent"),
            models.Index(fields=["connection", "status"], name="syncrun_conn_status"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(trigger__in=Trigger.values), name="syncrun_trigger_valid"),
            models.CheckConstraint(condition=Q(status__in=RunStatus.values), name="syncrun_status_valid"),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.trigger}, {self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class Direction(models.TextChoices):
    PULL = "pull", "From Zoho CRM"
    PUSH = "push", "To Zoho CRM"


class SyncRunModule(models.Model):
    """A run's counts for one module and direction. `added`/`updated` count writes on the receiving side;
    `unchanged` records read that needed no write."""

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="module_counts")
    module = models.CharField(max_length=20)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    added = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ("run", "id")
        constraints = [
            models.UniqueConstraint(fields=["run", "module", "direction"], name="syncrunmodule_unique"),
            models.CheckConstraint(condition=Q(direction__in=Direction.values), name="syncrunmodule_direction_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id} {self.module} {self.direction}"


class Outcome(models.TextChoices):
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class SyncFailure(models.Model):
    """One record that a run did not sync, with why. `reason_code` groups them ("invalid_value:Email",
    "crm:DUPLICATE_DATA", "duplicate_skipped"); `reason` is the sentence shown."""

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="failures")
    organization = models.ForeignKey("books.Organization", on_delete=models.CASCADE, related_name="+")
    module = models.CharField(max_length=20)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.FAILED)
    crm_module = models.CharField(max_length=20, blank=True)
    crm_id = models.CharField(max_length=40, blank=True)
    books_id = models.BigIntegerField(null=True, blank=True)
    record_name = models.CharField(max_length=255, blank=True)
    reason_code = models.CharField(max_length=120)
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("run", "id")
        indexes = [models.Index(fields=["run", "reason_code"], name="syncfailure_run_reason")]
        constraints = [
            models.CheckConstraint(condition=Q(direction__in=Direction.values), name="syncfailure_direction_valid"),
            models.CheckConstraint(condition=Q(outcome__in=Outcome.values), name="syncfailure_outcome_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.record_name or self.crm_id or self.books_id}: {self.reason}"


class SyncCursor(models.Model):
    organization = models.ForeignKey("books.Organization", on_delete=models.CASCADE, related_name="+")
    crm_org_id = models.CharField(max_length=40)
    # "pull:<CRM module>:<view id>", "push:<entity>:<CRM module>" or "deleted:<CRM module>".
    key = models.CharField(max_length=120)
    # Pull: ask the CRM for records modified after this (If-Modified-Since).
    modified_since = models.DateTimeField(null=True, blank=True)
    # Push: Books records updated at or after this are candidates.
    books_since = models.DateTimeField(null=True, blank=True)
    # The view and field map the pull ran with; another one means a full pull.
    fingerprint = models.CharField(max_length=64, blank=True)
    full_resync = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "crm_org_id", "key"], name="synccursor_unique_key"),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.crm_org_id} {self.key}"


class SyncLock(models.Model):
    connection = models.OneToOneField(
        "crm_integration.CrmConnection", on_delete=models.CASCADE, related_name="sync_lock"
    )
    owner = models.CharField(max_length=64, blank=True)
    run = models.ForeignKey(SyncRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"lock {self.connection_id} ({self.owner or 'free'})"


class IdFieldMode(models.TextChoices):
    UPSERT = "upsert", "Upsert on the Ledgerbridge ID field"
    INTENT = "intent", "Recorded push intents (the CRM refused the field)"


class CrmIdField(models.Model):
    organization = models.ForeignKey("books.Organization", on_delete=models.CASCADE, related_name="+")
    crm_org_id = models.CharField(max_length=40)
    crm_module = models.CharField(max_length=20)
    mode = models.CharField(max_length=10, choices=IdFieldMode.choices)
    api_name = models.CharField(max_length=100, blank=True)
    reason = models.TextField(blank=True)
    checked_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "crm_org_id", "crm_module"], name="crmidfield_unique"),
            models.CheckConstraint(condition=Q(mode__in=IdFieldMode.values), name="crmidfield_mode_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.crm_module}.{self.api_name or '-'} ({self.mode})"


class PushIntent(models.Model):
    organization = models.ForeignKey("books.Organization", on_delete=models.CASCADE, related_name="+")
    crm_org_id = models.CharField(max_length=40)
    crm_module = models.CharField(max_length=20)
    entity = models.CharField(max_length=20, choices=Entity.choices)
    books_id = models.BigIntegerField()
    # The CRM name-field value sent, to find the record again if the answer was lost.
    name = models.CharField(max_length=255)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "crm_org_id", "crm_module", "entity", "books_id"], name="pushintent_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"intent {self.entity} {self.books_id} → {self.crm_module}"


class DeferredRecord(models.Model):
    organization = models.ForeignKey("books.Organization", on_delete=models.CASCADE, related_name="+")
    crm_org_id = models.CharField(max_length=40)
    crm_module = models.CharField(max_length=20)
    crm_id = models.CharField(max_length=40)
    # The CRM record it waits for (the contact's account).
    waiting_for_module = models.CharField(max_length=20)
    waiting_for_id = models.CharField(max_length=40)
    record = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "crm_org_id", "crm_module", "crm_id"], name="deferredrecord_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "crm_org_id", "waiting_for_module", "waiting_for_id"],
                name="deferredrecord_waiting",
            )
        ]

    def __str__(self) -> str:
        return f"{self.crm_module} {self.crm_id} waits for {self.waiting_for_module} {self.waiting_for_id}"
