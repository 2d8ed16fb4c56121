"""Configure Now against the live sandbox: one step at a time with Back and Next, views read live, the field map
editor (defaults, custom fields, refusals), Save and Sync / Save and Sync Later, Edit, and every wrong input
answered inline."""

from __future__ import annotations

import pytest
from django.urls import reverse

from books.models import CustomFieldDefinition
from crm_integration import hooks
from crm_integration.models import FieldMapping, ModuleConfig, ModuleConfigDraft, SyncExtent

DETAILS = reverse("crm_integration:crm_details")


def url(module: str) -> str:
    return reverse("crm_integration:module_configure", args=[module])


def start(client, module: str, *, restart: bool = False):
    data = {"restart": "1"} if restart else {}
    response = client.post(reverse("crm_integration:module_start", args=[module]), data)
    assert response.status_code == 302
    assert response["Location"] == url(module)


def step(client, module: str, name: str, **values):
    return client.post(url(module), {"step": name, "action": values.pop("action", "next"), **values})


def views_of(sandbox, module: str) -> dict[str, str]:
    body = sandbox.api("GET", "settings/custom_views", params={"module": module}).json()
    return {v["name"]: v["id"] for v in body["custom_views"]}


def test_customers_take_five_steps_with_back_and_next(admin_client, connected, sandbox):
    start(admin_client, "customers")
    page = admin_client.get(url("customers")).content.decode()
    assert "Step 1 of 5" in page
    assert "Include contacts that are not associated to any accounts in Zoho CRM" in page
    assert "Customer Type as Business" in page

    assert step(admin_client, "customers", "module", crm_module_option="accounts_and_contacts").status_code == 302
    page = admin_client.get(url("customers")).content.decode()
    assert "Step 2 of 5" in page
    assert "Fetch from CRM" in page
    assert "Sync both ways" in page
    # Back keeps what was chosen.
    admin_client.post(url("customers"), {"step": "extent", "action": "back"})
    page = admin_client.get(url("customers")).content.decode()
    assert "Step 1 of 5" in page
    assert 'value="accounts_and_contacts" checked' in page
    step(admin_client, "customers", "module", crm_module_option="accounts_and_contacts", include_orphan_contacts="on")
    step(admin_client, "customers", "extent", extent="both_ways")
    page = admin_client.get(url("customers")).content.decode()
    for label in ("Clone", "Overwrite", "Skip", "Account name in Zoho CRM to the Customer Display Name"):
        assert label in page
    step(admin_client, "customers", "duplicates", duplicates="overwrite")

    # Step 4: an account view and a contact view, read live, predefined ones and user-made ones.
    page = admin_client.get(url("customers")).content.decode()
    assert "Account view" in page
    assert "Contact view" in page
    assert "All Accounts" in page
    assert "Gold Accounts" in page
    assert "Prefers Email" in page
    account_views, contact_views = views_of(sandbox, "Accounts"), views_of(sandbox, "Contacts")
    step(
        admin_client,
        "customers",
        "views",
        primary_view=account_views["Gold Accounts"],
        secondary_view=contact_views["Prefers Email"],
    )

    # Step 5: the field map, basic fields mapped by default; custom CRM fields listed.
    page = admin_client.get(url("customers")).content.decode()
    assert "Step 5 of 5" in page
    assert "Customer Tier (Customer_Tier, custom)" in page
    assert 'name="map__Accounts__contact_name"' in page
    assert 'name="map__Contacts__designation"' in page
    response = admin_client.post(
        url("customers"),
        {
            "step": "fields",
            "action": "save_later",
            "map__Accounts__contact_name": "Account_Name",
            "map__Accounts__billing_city": "Billing_City",
            "map__Contacts__last_name": "Last_Name",
            "map__Contacts__email": "Email",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == DETAILS
    config = ModuleConfig.objects.get(connection=connected, module="customers")
    assert config.crm_module_option == "accounts_and_contacts"
    assert config.include_orphan_contacts
    assert (config.extent, config.duplicates) == ("both_ways", "overwrite")
    assert (config.primary_view_name, config.secondary_view_name) == ("Gold Accounts", "Prefers Email")
    assert config.primary_view_id == account_views["Gold Accounts"]
    assert config.enabled
    maps = {(m.crm_module, m.books_field): m.crm_field for m in FieldMapping.objects.filter(module_config=config)}
    assert maps == {
        ("Accounts", "contact_name"): "Account_Name",
        ("Accounts", "billing_city"): "Billing_City",
        ("Contacts", "last_name"): "Last_Name",
        ("Contacts", "email"): "Email",
    }
    assert not ModuleConfigDraft.objects.exists()
    details = admin_client.get(DETAILS).content.decode()
    assert "Gold Accounts" in details
    assert 'id="edit-customers"' in details


def test_vendors_and_items_take_four_steps_and_items_explain_product_type(admin_client, connected, sandbox):
    for module in ("vendors", "items"):
        start(admin_client, module)
        assert "Step 1 of 4" in admin_client.get(url(module)).content.decode()
        step(admin_client, module, "extent", extent="fetch_from_crm")
        step(admin_client, module, "duplicates", duplicates="clone")
        page = admin_client.get(url(module)).content.decode()
        assert "Step 3 of 4" in page
        step(admin_client, module, "views", primary_view="")
        page = admin_client.get(url(module)).content.decode()
        assert "Step 4 of 4" in page
        if module == "items":
            assert "Goods" in page
            assert "Services" in page
            assert "Product Type" in page
            # The sandbox has the custom Product_Type pick list: mapped by default.
            assert '<option value="Product_Type" selected>' in page
        response = step(admin_client, module, "fields", action="save_later", **_defaults_from(page))
        assert response.status_code == 302
        config = ModuleConfig.objects.get(connection=connected, module=module)
        assert config.primary_view_name == ("All Vendors" if module == "vendors" else "All Products")
    items = ModuleConfig.objects.get(connection=connected, module="items")
    assert FieldMapping.objects.filter(
        module_config=items, books_field="product_type", crm_field="Product_Type"
    ).exists()


def _defaults_from(page: str) -> dict[str, str]:
    import re

    values = {}
    for select in re.finditer(r'<select name="(map__[^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', select.group(2))
        if chosen:
            values[select.group(1)] = chosen.group(1)
    return values


def test_incompatible_map_is_refused_inline_naming_both_fields_and_types(admin_client, connected):
    start(admin_client, "vendors")
    step(admin_client, "vendors", "extent", extent="fetch_from_crm")
    step(admin_client, "vendors", "duplicates", duplicates="skip")
    step(admin_client, "vendors", "views")
    response = step(
        admin_client,
        "vendors",
        "fields",
        action="save_later",
        map__Vendors__contact_name="Vendor_Name",
        map__Vendors__email="Payment_Terms_Days",
    )
    assert response.status_code == 422
    content = response.content.decode()
    assert (
        "Books field Email (email, email) cannot be mapped to CRM field Payment Terms Days (Payment_Terms_Days, number)"
        in content
    )
    # What was entered is still there, and nothing was saved.
    assert '<option value="Payment_Terms_Days" selected>' in content
    assert not ModuleConfig.objects.filter(module="vendors").exists()


def test_required_field_unmapped_is_refused(admin_client, connected):
    start(admin_client, "items")
    step(admin_client, "items", "extent", extent="fetch_from_crm")
    step(admin_client, "items", "duplicates", duplicates="skip")
    step(admin_client, "items", "views")
    response = step(admin_client, "items", "fields", action="save_sync", map__Products__sku="Product_Code")
    assert response.status_code == 422
    assert "Name must be mapped to a CRM field" in response.content.decode()


@pytest.mark.parametrize(
    ("module", "name", "values", "text"),
    [
        ("customers", "module", {"crm_module_option": "leads"}, "&#x27;leads&#x27; is not one of accounts"),
        ("customers", "module", {}, "is not one of accounts"),
        (
            "customers",
            "module",
            {"crm_module_option": "accounts", "include_orphan_contacts": "on"},
            "only applies when the module is Accounts and their Contacts",
        ),
        ("vendors", "extent", {"extent": "sideways"}, "&#x27;sideways&#x27; is not one of fetch_from_crm, both_ways"),
        ("vendors", "extent", {}, "is not one of fetch_from_crm"),
    ],
)
def test_wrong_step_inputs_are_inline(admin_client, connected, module, name, values, text):
    start(admin_client, module)
    response = step(admin_client, module, name, **values)
    assert response.status_code == 422
    assert text in response.content.decode()
    assert not ModuleConfig.objects.exists()


def test_wrong_duplicates_and_unknown_view_are_inline(admin_client, connected):
    start(admin_client, "vendors")
    step(admin_client, "vendors", "extent", extent="fetch_from_crm")
    response = step(admin_client, "vendors", "duplicates", duplicates="merge")
    assert response.status_code == 422
    assert "&#x27;merge&#x27; is not one of clone, overwrite, skip" in response.content.decode()
    step(admin_client, "vendors", "duplicates", duplicates="skip")
    response = step(admin_client, "vendors", "views", primary_view="999999")
    assert response.status_code == 422
    content = response.content.decode()
    assert "&#x27;999999&#x27; is not a view of Vendors in Zoho CRM" in content
    assert "All Vendors" in content


def test_one_way_connection_cannot_choose_both_ways(admin_client, connected):
    connected.two_way_allowed = False
    connected.save()
    start(admin_client, "vendors")
    page = admin_client.get(url("vendors")).content.decode()
    assert "already connected to another Zoho Books organization" in page
    response = step(admin_client, "vendors", "extent", extent=SyncExtent.BOTH_WAYS)
    assert response.status_code == 422
    assert "this connection is one way" in response.content.decode()


def test_create_a_books_custom_field_from_the_editor_and_map_it(admin_client, connected, sandbox):
    start(admin_client, "customers")
    step(admin_client, "customers", "module", crm_module_option="accounts")
    step(admin_client, "customers", "extent", extent="fetch_from_crm")
    step(admin_client, "customers", "duplicates", duplicates="skip")
    step(admin_client, "customers", "views")
    page = admin_client.get(url("customers")).content.decode()
    response = admin_client.post(
        url("customers"),
        {
            **_defaults_from(page),
            "step": "fields",
            "action": "create_field",
            "cf_crm_module": "Accounts",
            "cf_crm_field": "Customer_Tier",
            "cf_label": "",
            "cf_data_type": "",
        },
    )
    assert response.status_code == 302
    definition = CustomFieldDefinition.objects.get(organization=connected.organization, entity="customer")
    # Label and type taken from the CRM field, options from its pick list.
    assert (definition.label, definition.data_type) == ("Customer Tier", "picklist")
    assert definition.options == ["Gold", "Silver", "Bronze"]
    page = admin_client.get(url("customers")).content.decode()
    assert f'name="map__Accounts__cf:{definition.api_name}"' in page
    assert '<option value="Customer_Tier" selected>' in page
    # The same label again is refused inline.
    again = admin_client.post(
        url("customers"),
        {"step": "fields", "action": "create_field", "cf_crm_module": "Accounts", "cf_label": "Customer Tier"},
    )
    assert again.status_code == 409 or again.status_code == 422
    assert "already exists" in again.content.decode()
    response = step(admin_client, "customers", "fields", action="save_later", **_defaults_from(page))
    assert response.status_code == 302
    assert FieldMapping.objects.filter(
        books_field=f"cf:{definition.api_name}", crm_field="Customer_Tier", books_data_type="picklist"
    ).exists()


def test_custom_field_creation_wrong_inputs(admin_client, connected):
    start(admin_client, "vendors")
    step(admin_client, "vendors", "extent", extent="fetch_from_crm")
    step(admin_client, "vendors", "duplicates", duplicates="skip")
    step(admin_client, "vendors", "views")
    response = admin_client.post(
        url("vendors"),
        {"step": "fields", "action": "create_field", "cf_crm_module": "Vendors", "cf_crm_field": "Nope"},
    )
    assert response.status_code == 422
    assert "&#x27;Nope&#x27; is not a field of Vendors in Zoho CRM" in response.content.decode()
    response = admin_client.post(
        url("vendors"),
        {
            "step": "fields",
            "action": "create_field",
            "cf_crm_module": "Vendors",
            "cf_label": "Tier",
            "cf_data_type": "picklist",
        },
    )
    assert response.status_code == 422
    assert "a picklist needs at least one option" in response.content.decode()
    assert not CustomFieldDefinition.objects.exists()


def test_save_and_sync_without_an_engine_saves_and_says_so(admin_client, connected):
    hooks._sync_starter.clear()
    start(admin_client, "vendors")
    step(admin_client, "vendors", "extent", extent="fetch_from_crm")
    step(admin_client, "vendors", "duplicates", duplicates="skip")
    step(admin_client, "vendors", "views")
    page = admin_client.get(url("vendors")).content.decode()
    response = admin_client.post(
        url("vendors"), {"step": "fields", "action": "save_sync", **_defaults_from(page)}, follow=True
    )
    content = response.content.decode()
    assert "Vendors settings saved." in content
    assert "Sync is not available yet" in content
    assert ModuleConfig.objects.get(module="vendors").enabled


def test_save_and_sync_starts_the_registered_sync(admin_client, connected):
    calls = []
    hooks.register_sync_starter(lambda **kw: calls.append(kw) or "Sync started.")
    start(admin_client, "vendors")
    step(admin_client, "vendors", "extent", extent="fetch_from_crm")
    step(admin_client, "vendors", "duplicates", duplicates="skip")
    step(admin_client, "vendors", "views")
    page = admin_client.get(url("vendors")).content.decode()
    admin_client.post(url("vendors"), {"step": "fields", "action": "save_sync", **_defaults_from(page)})
    assert len(calls) == 1
    assert calls[0]["trigger"] == "initial"
    assert calls[0]["modules"] == ["vendors"]


def test_edit_starts_from_the_saved_settings_and_cancel_keeps_them(admin_client, connected):
    start(admin_client, "vendors")
    step(admin_client, "vendors", "extent", extent="fetch_from_crm")
    step(admin_client, "vendors", "duplicates", duplicates="clone")
    step(admin_client, "vendors", "views")
    page = admin_client.get(url("vendors")).content.decode()
    admin_client.post(url("vendors"), {"step": "fields", "action": "save_later", **_defaults_from(page)})
    start(admin_client, "vendors", restart=True)
    step(admin_client, "vendors", "extent", extent="both_ways")
    page = admin_client.get(url("vendors")).content.decode()
    assert 'value="clone" checked' in page
    admin_client.post(url("vendors"), {"step": "duplicates", "action": "cancel"})
    config = ModuleConfig.objects.get(module="vendors")
    assert (config.extent, config.duplicates) == ("fetch_from_crm", "clone")
    assert not ModuleConfigDraft.objects.exists()


def test_a_stale_step_from_another_window_is_not_applied(admin_client, connected):
    start(admin_client, "vendors")
    step(admin_client, "vendors", "extent", extent="fetch_from_crm")
    response = admin_client.post(
        url("vendors"), {"step": "extent", "action": "next", "extent": "both_ways"}, follow=True
    )
    assert "changed in another window" in response.content.decode()
    assert ModuleConfigDraft.objects.get(module="vendors").data["extent"] == "fetch_from_crm"


def test_stop_syncing_a_module(admin_client, connected):
    ModuleConfig.objects.create(connection=connected, module="items", enabled=True)
    admin_client.post(reverse("crm_integration:module_stop", args=["items"]))
    assert not ModuleConfig.objects.get(module="items").enabled


def test_wizard_needs_a_live_connection(admin_client, org, connected):
    connected.status = "disabled"
    connected.save()
    response = admin_client.post(reverse("crm_integration:module_start", args=["items"]), follow=True)
    assert "The integration is disabled" in response.content.decode()
    assert not ModuleConfigDraft.objects.exists()


def test_crm_outage_on_the_views_step_is_a_message_not_a_500(admin_client, connected, sandbox, monkeypatch):
    import crm_integration.services.clients as clients_module

    start(admin_client, "vendors")
    step(admin_client, "vendors", "extent", extent="fetch_from_crm")
    step(admin_client, "vendors", "duplicates", duplicates="skip")
    original = clients_module.client_from_credentials

    def quick(credentials, **kwargs):
        client = original(credentials, **kwargs)
        # A short retry budget, so the page answers within a second while every call fails.
        client.transport.policy = type(client.transport.policy)(budget=1.0, base_delay=0.05, max_delay=0.1)
        return client

    monkeypatch.setattr(clients_module, "client_from_credentials", quick)
    sandbox.set_faults(**{"5xx": 1.0})
    try:
        page = admin_client.get(url("vendors"))
    finally:
        sandbox.set_faults()
    assert page.status_code == 503
    assert "Zoho CRM is not answering right now" in page.content.decode()


def test_back_from_the_field_map_keeps_what_was_entered(admin_client, connected):
    start(admin_client, "vendors")
    step(admin_client, "vendors", "extent", extent="fetch_from_crm")
    step(admin_client, "vendors", "duplicates", duplicates="skip")
    step(admin_client, "vendors", "views")
    admin_client.post(
        url("vendors"),
        {
            "step": "fields",
            "action": "back",
            "map__Vendors__contact_name": "Vendor_Name",
            "map__Vendors__notes": "Vendor_Name",
        },
    )
    assert "Step 3 of 4" in admin_client.get(url("vendors")).content.decode()
    step(admin_client, "vendors", "views")
    page = admin_client.get(url("vendors")).content.decode()
    notes = page.split('name="map__Vendors__notes"')[1].split("</select>")[0]
    assert '<option value="Vendor_Name" selected>' in notes
    # The defaults that were cleared stay cleared.
    email = page.split('name="map__Vendors__email"')[1].split("</select>")[0]
    assert "selected" not in email
