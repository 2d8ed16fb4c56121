"""The hooks registry, the token cache, and the details page's query count (constant in modules and maps)."""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm_integration import hooks
from crm_integration.client import TokenSet
from crm_integration.models import FieldMapping, ModuleConfig
from crm_integration.services.clients import DjangoTokenCache
from tests.crm_integration.helpers import make_connection


def test_register_panel_checks_placement_and_orders():
    with pytest.raises(ValueError, match="placement must be one of"):
        hooks.register_panel("x", title="X", template_name="x.html", context=lambda r, c: {}, placement="footer")
    hooks.register_panel("b", title="B", template_name="b.html", context=lambda r, c: {}, order=20)
    hooks.register_panel("a", title="A", template_name="a.html", context=lambda r, c: {}, order=10)
    assert [p.key for p in hooks.panels("details")][:2] == ["a", "b"]


def test_listeners_run_and_a_failing_one_is_contained(caplog):
    seen = []
    hooks.connect_listener("connection_disabled", lambda **kw: seen.append(kw["connection"]))
    hooks.connect_listener("connection_disabled", lambda **kw: 1 / 0)
    hooks.emit("connection_disabled", connection="c1", actor=None)
    assert seen == ["c1"]
    assert "connection_disabled failed" in caplog.text
    with pytest.raises(ValueError, match="event must be one of"):
        hooks.connect_listener("nope", lambda **kw: None)


def test_disable_emits_after_commit(org, admin_user, django_capture_on_commit_callbacks):
    from crm_integration.services.connections import connection_disable

    conn = make_connection(org)
    seen = []
    hooks.connect_listener("connection_disabled", lambda **kw: seen.append(kw["connection"].pk))
    with django_capture_on_commit_callbacks(execute=True):
        connection_disable(connection=conn, actor=admin_user)
    assert seen == [conn.pk]


def test_token_cache_stores_access_tokens_encrypted():
    cache.clear()
    token_cache = DjangoTokenCache()
    token = TokenSet(
        access_token="1000.secret-access-token",
        expires_at=timezone.now() + datetime.timedelta(hours=1),
        api_domain="http://crm.test",
    )
    token_cache.set("conn-key", token)
    raw = cache.get(token_cache._key("conn-key"))
    assert "secret-access-token" not in raw
    assert "conn-key" not in token_cache._key("conn-key")
    assert token_cache.get("conn-key") == token
    token_cache.delete("conn-key")
    assert token_cache.get("conn-key") is None


def _details_queries(client) -> int:
    with CaptureQueriesContext(db_connection) as ctx:
        response = client.get(reverse("crm_integration:crm_details"))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_details_page_query_count_does_not_grow_with_modules_and_maps(admin_client, org):
    conn = make_connection(org)
    config = ModuleConfig.objects.create(connection=conn, module="vendors", enabled=True)
    FieldMapping.objects.create(
        module_config=config,
        crm_module="Vendors",
        books_field="contact_name",
        crm_field="Vendor_Name",
        crm_data_type="text",
        books_data_type="text",
    )
    few = _details_queries(admin_client)
    for module, option in (("customers", "accounts"), ("items", "")):
        other = ModuleConfig.objects.create(connection=conn, module=module, crm_module_option=option, enabled=True)
        FieldMapping.objects.bulk_create(
            FieldMapping(
                module_config=other,
                crm_module="Accounts" if module == "customers" else "Products",
                books_field=f"field_{i}",
                crm_field=f"Field_{i}",
                crm_data_type="text",
                books_data_type="text",
            )
            for i in range(30)
        )
    assert _details_queries(admin_client) == few
    # 12 for the page and the sync panel, +1 for the deal triggers panel (its preference).
    assert few <= 13
