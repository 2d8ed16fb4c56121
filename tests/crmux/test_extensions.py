"""books.extensions: other apps add to Books' pages and API without Books importing them; a broken addition never
takes a Books page down or undoes a save."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from books import extensions
from books.models import Transaction
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_books_imports_nothing_of_the_apps_that_depend_on_it():
    offenders = []
    for source in (ROOT / "books").rglob("*.py"):
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{source.relative_to(ROOT)}: {n}"
                for n in names
                if n.split(".")[0] in ("sync", "crm_integration", "triggers")
            ]
    assert offenders == []


def test_a_slot_must_exist():
    with pytest.raises(ValueError, match="slot must be one of"):
        extensions.register_fragment("sidebar", "x", template_name="x.html", context=lambda request, page: {})


def test_fragments_render_in_order_and_can_stay_out(admin_client, org, tmp_path, settings):
    (tmp_path / "test_item.html").write_text('<span data-test="{{ label }}">{{ label }}</span>')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}]
    customer = CustomerFactory(organization=org, contact_name="Zylker")
    seen = {}

    def visible(request, page):
        seen["contact"] = page["contact"]
        return {"label": "Second action"}

    extensions.register_fragment("contact_more_menu", "b", template_name="test_item.html", context=visible, order=20)
    extensions.register_fragment(
        "contact_more_menu", "a", template_name="test_item.html", context=lambda r, p: {"label": "First"}, order=10
    )
    extensions.register_fragment("contact_more_menu", "c", template_name="test_item.html", context=lambda r, p: None)

    def broken(request, page):
        raise RuntimeError("a bug in another app")

    extensions.register_fragment("contact_more_menu", "d", template_name="test_item.html", context=broken)
    response = admin_client.get(f"/customers/{customer.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index('data-test="First"') < body.index('data-test="Second action"')
    assert body.count('data-test="') == 2
    assert seen["contact"].pk == customer.pk


def test_a_failing_form_saved_handler_does_not_undo_the_save(admin_client, org):
    customer = CustomerFactory(organization=org)
    calls = []

    def handler(*, request, txn, created):
        calls.append((txn.pk, created))
        raise RuntimeError("a bug in another app")

    extensions.register_form_saved("test", handler)
    response = admin_client.post(
        "/invoices/new/",
        {
            "contact_id": customer.pk,
            "date": "2026-02-01",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-0-name": "Work",
            "lines-0-rate": "10",
        },
    )
    assert response.status_code == 302
    invoice = Transaction.objects.get(organization=org)
    assert calls == [(invoice.pk, True)]
    admin_client.post(
        f"/invoices/{invoice.pk}/edit/",
        {
            "contact_id": customer.pk,
            "date": "2026-02-01",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-0-name": "Work",
            "lines-0-rate": "20",
        },
    )
    assert calls[-1] == (invoice.pk, False)


class _Ping(APIView):
    authentication_classes = ()
    permission_classes = ()

    def get(self, request):
        return Response({"code": 0, "message": "pong"})


def test_api_routes_come_before_the_unknown_url_answer(client):
    import books.apis.urls as api_urls

    extensions.register_api_route(path("crm/ping", _Ping.as_view()))
    patterns = extensions.api_routes()
    assert any(str(p.pattern) == "crm/ping" for p in patterns)
    # The CRM imports registered by sync are among the routes the API serves, before the catch-all.
    served = [str(p.pattern) for p in api_urls.urlpatterns]
    for kind in ("account", "contact", "vendor", "item"):
        assert any(s.startswith(f"crm/{kind}/") and s.endswith("/import") for s in served)
    assert served[-1] == "^.*$"
