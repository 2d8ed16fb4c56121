"""Keeps the CRM sandbox's tables out of Ledgerbridge's database.

The sandbox is installed in the main settings only so that its models are type-checked and its migrations
checked; it runs as its own process with `crm_sandbox.settings`, where this router is not used.
"""

from typing import Any


class SandboxRouter:
    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        if app_label == "crm_sandbox":
            return False
        return None
