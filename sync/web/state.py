"""The deal a transaction form will associate (or dissociate) when it is saved: chosen in the Associate Potential
pane, carried by the form as one signed hidden value (`crm_deal`), applied by the form-saved handler. Signed so
that a page cannot be made to associate a deal nobody chose in the pane (the pane read it from the CRM), and
bound to the organization."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core import signing

SALT = "ledgerbridge.sync.crm-deal"
MAX_AGE = 60 * 60 * 24  # a form left open for a day must choose the deal again
ASSOCIATE = "associate"
DISSOCIATE = "dissociate"


@dataclass(frozen=True)
class PendingDeal:
    op: str  # ASSOCIATE | DISSOCIATE
    id: str = ""
    name: str = ""

    @property
    def associates(self) -> bool:
        return self.op == ASSOCIATE


def pending_dumps(pending: PendingDeal, *, organization_id: int) -> str:
    return signing.dumps({"o": organization_id, "op": pending.op, "id": pending.id, "n": pending.name}, salt=SALT)


def pending_loads(token: Any, *, organization_id: int) -> PendingDeal | None:
    """The pending deal of a form, or None for no value, a value not made here, of another organization or too old."""
    if not token or not isinstance(token, str) or len(token) > 2000:
        return None
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("o") != organization_id or data.get("op") not in (ASSOCIATE, DISSOCIATE):
        return None
    return PendingDeal(op=str(data["op"]), id=str(data.get("id") or ""), name=str(data.get("n") or ""))
