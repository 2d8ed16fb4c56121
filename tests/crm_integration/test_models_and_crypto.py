"""Constraints of the crm_integration models, and secrets at rest."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, transaction
from django.test import override_settings

from crm_integration import crypto
from crm_integration.models import (
    ConnectionStatus,
    CrmConnection,
    FieldMapping,
    ModuleConfig,
    SyncModule,
)
from crm_integration.services.clients import connection_credentials
from tests.crm_integration.helpers import make_connection
from tests.factories import OrganizationFactory


def _raw_columns(pk: int) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT encrypted_client_secret, encrypted_refresh_token FROM crm_integration_crmconnection WHERE id = %s",
            [pk],
        )
        row = cursor.fetchone()
    return row[0], row[1]


def test_secrets_are_not_stored_in_plaintext(org):
    conn = make_connection(org)
    secret_column, token_column = _raw_columns(conn.pk)
    assert "client-secret-value" not in secret_column
    assert "refresh-token-value" not in token_column
    credentials = connection_credentials(conn)
    assert credentials.client_secret == "client-secret-value"
    assert credentials.refresh_token == "1000.refresh-token-value"


def test_key_rotation_reads_old_values_and_rewrites_with_the_new_key(org):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(LB_ENCRYPTION_KEY=old):
        stored = crypto.encrypt("s3cret")
    with override_settings(LB_ENCRYPTION_KEY=f"{new},{old}"):
        assert crypto.decrypt(stored) == "s3cret"
        rotated = crypto.rotate(stored)
    with override_settings(LB_ENCRYPTION_KEY=new):
        assert crypto.decrypt(rotated) == "s3cret"
        with pytest.raises(crypto.SecretUnreadable, match="LB_ENCRYPTION_KEY"):
            crypto.decrypt(stored)


def test_a_bad_key_is_refused_with_its_position():
    with override_settings(LB_ENCRYPTION_KEY="not-a-key"), pytest.raises(ImproperlyConfigured, match="key #1"):
        crypto.encrypt("x")


def test_derived_key_warns_once_in_production(caplog, monkeypatch):
    monkeypatch.setattr(crypto, "_warned", False)
    crypto._cache.clear()
    with override_settings(LB_ENCRYPTION_KEY="", DEBUG=False), caplog.at_level(logging.WARNING):
        crypto.encrypt("plaintext-marker-1")
        crypto._cache.clear()
        crypto.encrypt("plaintext-marker-2")
    warnings = [r for r in caplog.records if "LB_ENCRYPTION_KEY is not set" in r.getMessage()]
    assert len(warnings) == 1
    assert not any("plaintext-marker" in r.getMessage() for r in caplog.records)


def test_unreadable_secret_asks_for_new_credentials(org):
    conn = make_connection(org, encrypted_refresh_token="gAAAAA-garbage")
    from books.errors import ApplicationError

    with pytest.raises(ApplicationError, match="Update Credentials"):
        connection_credentials(conn)


def test_one_two_way_connection_per_crm_org(org, other_org):
    make_connection(org)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_connection(other_org)
    # One way is fine, and so is another two-way once the first is disabled.
    second = make_connection(other_org, two_way_allowed=False)
    assert CrmConnection.objects.filter(crm_org_id="900001").count() == 2
    third_org = OrganizationFactory()
    CrmConnection.objects.filter(organization=org).update(status=ConnectionStatus.DISABLED)
    make_connection(third_org)
    assert second.two_way_allowed is False


@pytest.mark.parametrize(
    ("overrides", "constraint"),
    [
        ({"status": "bogus"}, "crmconn_status_valid"),
        ({"data_center": "mars"}, "crmconn_data_center_valid"),
        ({"sync_interval_minutes": 2}, "crmconn_interval_in_range"),
        ({"crm_org_id": ""}, "crmconn_required_not_empty"),
    ],
)
def test_connection_constraints(org, overrides, constraint):
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        make_connection(org, **overrides)


def test_module_config_constraints(org):
    conn = make_connection(org)
    with pytest.raises(IntegrityError), transaction.atomic():
        ModuleConfig.objects.create(connection=conn, module=SyncModule.VENDORS, crm_module_option="accounts")
    with pytest.raises(IntegrityError), transaction.atomic():
        ModuleConfig.objects.create(connection=conn, module=SyncModule.CUSTOMERS, crm_module_option="")
    with pytest.raises(IntegrityError), transaction.atomic():
        ModuleConfig.objects.create(
            connection=conn, module=SyncModule.CUSTOMERS, crm_module_option="accounts", include_orphan_contacts=True
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        ModuleConfig.objects.create(
            connection=conn, module=SyncModule.CUSTOMERS, crm_module_option="contacts", secondary_view_id="5"
        )
    config = ModuleConfig.objects.create(connection=conn, module=SyncModule.CUSTOMERS, crm_module_option="accounts")
    assert config.crm_modules == ("Accounts",)
    with pytest.raises(IntegrityError), transaction.atomic():
        ModuleConfig.objects.create(connection=conn, module=SyncModule.CUSTOMERS, crm_module_option="contacts")
    FieldMapping.objects.create(
        module_config=config,
        crm_module="Accounts",
        books_field="billing_city",
        crm_field="Billing_City",
        crm_data_type="text",
        books_data_type="text",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        FieldMapping.objects.create(
            module_config=config,
            crm_module="Accounts",
            books_field="billing_city",
            crm_field="Shipping_City",
            crm_data_type="text",
            books_data_type="text",
        )


def test_crm_secrets_rotate_command(org):
    import io

    from django.core.management import CommandError, call_command

    from crm_integration.services.clients import connection_credentials

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(LB_ENCRYPTION_KEY=old):
        conn = make_connection(org)
    with override_settings(LB_ENCRYPTION_KEY=new), pytest.raises(CommandError, match="keep the old key"):
        call_command("crm_secrets_rotate")
    out = io.StringIO()
    with override_settings(LB_ENCRYPTION_KEY=f"{new},{old}"):
        call_command("crm_secrets_rotate", stdout=out)
    assert "1 connection(s) re-encrypted" in out.getvalue()
    conn.refresh_from_db()
    with override_settings(LB_ENCRYPTION_KEY=new):
        assert connection_credentials(conn).refresh_token == "1000.refresh-token-value"
