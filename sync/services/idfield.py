"""Ledgerbridge's id on CRM records, which makes CRM inserts recoverable after a crash.

Each CRM module a connection pushes to gets a unique single-line field "Ledgerbridge ID" (Zoho's Create Custom
Field API, through the client's `create_field`). A pushed record carries `lb:<org id>:<entity>:<books id>` in it,
and new records are sent as an upsert on that field: sending the same batch again after a crash (the CRM wrote it,
we died before saving the links) updates the records instead of creating them twice. A pull that meets a record
carrying our id but no link links it again to its Books record.

When the CRM refuses to create the field (no permission, or a field of that name that is not unique), the engine
falls back to recorded push intents (see push.py) and says so in the run's notes.
"""

from __future__ import annotations

import datetime
import logging

from django.utils import timezone

from crm_integration.client import CrmClient, CrmPermanent
from sync.models import CrmIdField, IdFieldMode
from sync.services.context import RunContext

logger = logging.getLogger(__name__)

FIELD_LABEL = "Ledgerbridge ID"
FIELD_API_NAME = "Ledgerbridge_ID"
VALUE_PREFIX = "lb"
# A refusal may pass (permissions granted later): the field is asked for again after this long.
INTENT_RECHECK = datetime.timedelta(hours=1)


def id_value(*, organization_id: int, entity: str, books_id: int) -> str:
    return f"{VALUE_PREFIX}:{organization_id}:{entity}:{books_id}"


def id_parse(value: object, *, organization_id: int, entity: str) -> int | None:
    """The Books id in one of our ids for this organization and entity, else None."""
    if not isinstance(value, str):
        return None
    parts = value.split(":")
    if len(parts) != 4 or parts[0] != VALUE_PREFIX or parts[1] != str(organization_id) or parts[2] != entity:
        return None
    return int(parts[3]) if parts[3].isdigit() else None


def id_field_known(ctx: RunContext, crm_module: str) -> CrmIdField | None:
    return CrmIdField.objects.filter(
        organization=ctx.organization, crm_org_id=ctx.crm_org_id, crm_module=crm_module
    ).first()


def intent_note(crm_module: str, reason: str) -> str:
    return (
        f"Zoho CRM did not let Ledgerbridge create its '{FIELD_LABEL}' field in {crm_module} ({reason}); new "
        f"records are pushed with recorded intents, which are checked before a push is retried."
    )


def id_field_ensure(ctx: RunContext, crm_module: str) -> CrmIdField:
    """The module's id field, created in the CRM the first time. Cached per organization, CRM org and module, so a
    run makes no metadata call once it exists."""
    known = id_field_known(ctx, crm_module)
    if known is not None and (known.mode == IdFieldMode.UPSERT or known.checked_at > timezone.now() - INTENT_RECHECK):
        if known.mode == IdFieldMode.INTENT:
            ctx.note(intent_note(crm_module, known.reason))
        return known
    api_name, reason = _find_or_create(ctx.client, crm_module)
    mode = IdFieldMode.UPSERT if api_name else IdFieldMode.INTENT
    field, _ = CrmIdField.objects.update_or_create(
        organization=ctx.organization,
        crm_org_id=ctx.crm_org_id,
        crm_module=crm_module,
        defaults={"mode": mode, "api_name": api_name, "reason": reason[:1000]},
    )
    if mode == IdFieldMode.INTENT:
        ctx.note(intent_note(crm_module, reason))
    return field


def _find_or_create(client: CrmClient, crm_module: str) -> tuple[str, str]:
    """(api name, "") when the field exists or was made; ("", why) when it cannot be had."""
    for meta in client.list_fields(crm_module):
        if meta.api_name == FIELD_API_NAME or meta.label == FIELD_LABEL:
            if meta.unique:
                return meta.api_name, ""
            return "", f"a field '{meta.label}' exists but is not unique"
    try:
        made = client.create_field(crm_module, label=FIELD_LABEL, data_type="text", length=100, unique=True)
    except CrmPermanent as exc:
        if exc.code == "DUPLICATE_DATA":
            # A first attempt whose answer was lost made it (the client repeats a lost create): use that one.
            for meta in client.list_fields(crm_module):
                if (meta.api_name == FIELD_API_NAME or meta.label == FIELD_LABEL) and meta.unique:
                    return meta.api_name, ""
        logger.warning("could not create %s in %s: %s", FIELD_LABEL, crm_module, exc)
        return "", str(exc)
    if not made.unique:
        return "", "the field Zoho CRM created is not unique"
    return made.api_name, ""
