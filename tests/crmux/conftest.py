"""Fixtures of the CRM-features tests: an organization connected to the live sandbox through the same services as
the pages, module configs saved through crm_integration's services, and helpers that read the sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from books import extensions
from crm_integration import hooks
from crm_integration.models import CrmConnection
from crm_integration.services import connections
from crm_integration.services.modules import ModuleInput, module_config_save


@pytest.fixture(autouse=True)
def _isolated_registries():
    with hooks.registry_snapshot(), extensions.registry_snapshot():
        yield


@pytest.fixture
def connected(sandbox, org, admin_user) -> CrmConnection:
    """`org` connected to the live sandbox (credentials with a refresh token, then the CRM org chosen)."""
    connections.pending_authorize_with_refresh_token(
        organization=org, actor=admin_user, credentials=sandbox.credentials()
    )
    return connections.connection_connect(organization=org, actor=admin_user).connection


def configure(connection: CrmConnection, module: str, **kw: Any):
    """Saves a module config through crm_integration (validated against the live CRM), default field maps."""
    return module_config_save(connection=connection, actor=None, data=ModuleInput(module=module, **kw))


def crm_records(sandbox, module: str, fields: list[str]) -> list[dict[str, Any]]:
    """The first page (200) of a CRM module, read over HTTP from the sandbox."""
    response = sandbox.api("GET", module, params={"fields": ",".join(fields), "per_page": 200})
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def account_with_contacts(sandbox, *, at_least: int = 1) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A CRM account with at least `at_least` contacts (the seed gives most accounts one or two), and its contacts,
    whose name starts with no other account's name (so a search by it lists it alone or with its near-twins)."""
    accounts = crm_records(sandbox, "Accounts", ["Account_Name"])
    contacts = crm_records(sandbox, "Contacts", ["First_Name", "Last_Name", "Email", "Account_Name"])
    by_account: dict[str, list[dict[str, Any]]] = {}
    for contact in contacts:
        if contact.get("Account_Name"):
            by_account.setdefault(contact["Account_Name"]["id"], []).append(contact)
    for account in accounts:
        if len(by_account.get(account["id"], [])) >= at_least:
            return account, by_account[account["id"]]
    raise AssertionError("the sandbox seed has no account with contacts")


def orphan_contact(sandbox) -> dict[str, Any]:
    contacts = crm_records(sandbox, "Contacts", ["First_Name", "Last_Name", "Email", "Account_Name"])
    return next(c for c in contacts if not c.get("Account_Name"))
