"""`crm_secrets_rotate`: re-encrypt the stored CRM secrets with the first key of LB_ENCRYPTION_KEY (key rotation:
put the new key first, keep the old one after it, run this, then drop the old key)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from crm_integration.crypto import SecretUnreadable
from crm_integration.services.connections import secrets_rotate


class Command(BaseCommand):
    help = "Re-encrypt the stored CRM secrets with the newest LB_ENCRYPTION_KEY."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            count = secrets_rotate()
        except SecretUnreadable as exc:
            raise CommandError(f"LB_ENCRYPTION_KEY: {exc}; keep the old key in the list while rotating") from None
        self.stdout.write(f"{count} connection(s) re-encrypted with the first key of LB_ENCRYPTION_KEY.")
