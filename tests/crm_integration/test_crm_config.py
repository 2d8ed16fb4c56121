"""`crm_config apply` / `crm_config show` against the live sandbox: a valid file, applying twice, the round trip
through show, and each kind of invalid file (named key and problem, nothing changed)."""

from __future__ import annotations

import io
import json

import pytest
import yaml
from django.core.management import CommandError, call_command

from crm_integration import hooks
from crm_integration.models import ConnectionStatus, CrmConnection, FieldMapping, ModuleConfig


def config(sandbox, **sections):
    creds = sandbox.credentials_json()
    data = {
        "connection": {
            "accounts_url": creds["accounts_url"],
            "api_domain": creds["api_domain"],
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
            "refresh_token": creds["refresh_token"],
        },
        "customers": {
            "module": "accounts_and_contacts",
            "include_orphan_contacts": True,
            "extent": "both_ways",
            "duplicates": "overwrite",
            "account_view": "Gold Accounts",
            "contact_view": "All Contacts",
            "field_map": {
                "Accounts": {"billing_city": "Billing_City", "website": None},
                "Contacts": {"designation": "Title"},
            },
        },
        "vendors": {"extent": "fetch_from_crm", "duplicates": "skip", "view": "Net 30 Vendors"},
        "items": {
            "extent": "fetch_from_crm",
            "duplicates": "clone",
            "view": "All Products",
            "field_map": {"unit": "Usage_Unit"},
        },
        "transactions": {"enabled": False},
        "triggers": {"mode": "off"},
        "sync": {"paused": False, "interval_minutes": 60},
    }
    data.update(sections)
    return {k: v for k, v in data.items() if v is not None}


def apply(tmp_path, org, data, *, name="lb.yaml", text=None):
    path = tmp_path / name
    path.write_text(text if text is not None else yaml.safe_dump(data, sort_keys=False))
    out = io.StringIO()
    call_command("crm_config", "apply", str(path), "--org", org.slug, stdout=out)
    return out.getvalue()


def show(org, *extra):
    out = io.StringIO()
    call_command("crm_config", "show", "--org", org.slug, *extra, stdout=out)
    return out.getvalue()


def snapshot(org):
    conn = CrmConnection.objects.filter(organization=org).values().first()
    modules = list(ModuleConfig.objects.filter(connection__organization=org).order_by("module").values())
    maps = list(FieldMapping.objects.filter(module_config__connection__organization=org).order_by("id").values())
    return conn, modules, maps


def test_apply_a_whole_set_up(tmp_path, org, sandbox):
    report = apply(tmp_path, org, config(sandbox))
    assert "connection: connected to Zoho CRM organization" in report
    conn = CrmConnection.objects.get(organization=org)
    assert conn.status == ConnectionStatus.CONNECTED
    assert conn.sync_interval_minutes == 60
    customers = ModuleConfig.objects.get(connection=conn, module="customers")
    assert (customers.crm_module_option, customers.include_orphan_contacts) == ("accounts_and_contacts", True)
    assert (customers.primary_view_name, customers.secondary_view_name) == ("Gold Accounts", "All Contacts")
    maps = {(m.crm_module, m.books_field): m.crm_field for m in customers.field_mappings.all()}
    # The file's maps lie over the defaults: added, changed, and removed with null.
    assert maps[("Accounts", "billing_city")] == "Billing_City"
    assert maps[("Accounts", "contact_name")] == "Account_Name"
    assert ("Accounts", "website") not in maps
    assert maps[("Contacts", "designation")] == "Title"
    vendors = ModuleConfig.objects.get(connection=conn, module="vendors")
    assert vendors.primary_view_name == "Net 30 Vendors"
    items = ModuleConfig.objects.get(connection=conn, module="items")
    assert items.field_mappings.filter(books_field="unit", crm_field="Usage_Unit").exists()
    assert items.field_mappings.filter(books_field="product_type", crm_field="Product_Type").exists()


def test_apply_twice_changes_nothing(tmp_path, org, sandbox):
    apply(tmp_path, org, config(sandbox))
    before = snapshot(org)
    report = apply(tmp_path, org, config(sandbox))
    assert "connection: unchanged" in report
    assert "customers: unchanged" in report
    assert "vendors: unchanged" in report
    assert "items: unchanged" in report
    assert snapshot(org) == before


def test_show_masks_secrets_and_round_trips(tmp_path, org, sandbox):
    apply(tmp_path, org, config(sandbox))
    shown = show(org)
    creds = sandbox.credentials_json()
    assert creds["client_secret"] not in shown
    assert creds["refresh_token"] not in shown
    data = yaml.safe_load(shown)
    assert data["connection"]["client_secret"] == "********"
    assert data["customers"]["account_view"] == "Gold Accounts"
    assert data["customers"]["field_map"]["Accounts"]["website"] is None
    assert data["sync"] == {"paused": False, "interval_minutes": 60}
    before = snapshot(org)
    report = apply(tmp_path, org, data, name="shown.yaml")
    assert "customers: unchanged" in report
    assert snapshot(org) == before
    as_json = json.loads(show(org, "--json"))
    assert as_json == data


def test_json_is_accepted_and_modules_left_out_stop_syncing(tmp_path, org, sandbox):
    apply(tmp_path, org, config(sandbox))
    data = config(sandbox, customers=None, items=None)
    report = apply(tmp_path, org, None, name="lb.json", text=json.dumps(data))
    assert "customers: no longer synced (left out of the file)" in report
    enabled = set(ModuleConfig.objects.filter(enabled=True).values_list("module", flat=True))
    assert enabled == {"vendors"}


def test_file_without_connection_uses_the_saved_one(tmp_path, org, sandbox, connected):
    report = apply(tmp_path, org, {"vendors": {"view": "All Vendors"}, "sync": {"paused": True}})
    assert "vendors: saved" in report
    connected.refresh_from_db()
    assert connected.paused


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"colour": "blue"},
            "colour: unknown key (known: connection, customers, vendors, items, transactions, triggers, sync)",
        ),
        ({"customers": {"modul": "accounts"}}, "customers.modul: unknown key"),
        (
            {"vendors": {"extent": "sideways"}},
            "vendors.extent: text ('sideways') is not one of fetch_from_crm, both_ways",
        ),
        ({"items": {"duplicates": 3}}, "items.duplicates: a number (3) is not one of clone, overwrite, skip"),
        (
            {"sync": {"interval_minutes": "often"}},
            "sync.interval_minutes: expected a whole number of minutes, got text ('often')",
        ),
        ({"sync": {"interval_minutes": 1}}, "sync.interval_minutes: 1 is outside 5–1440 minutes"),
        ({"sync": {"paused": "no"}}, "sync.paused: expected true or false, got text ('no')"),
        (
            {"customers": {"include_orphan_contacts": True, "module": "accounts"}},
            "customers.include_orphan_contacts: only applies",
        ),
        (
            {"customers": {"module": "accounts", "account_view": "Platinum Accounts"}},
            "customers.account_view: 'Platinum Accounts' is not a view of Accounts in Zoho CRM",
        ),
        (
            {"vendors": {"field_map": {"email": "Payment_Terms_Days"}}},
            "vendors.field_map.Vendors.email: Books field Email (email, email) cannot be mapped to CRM field Payment Terms Days (Payment_Terms_Days, number)",
        ),
        ({"vendors": {"field_map": {"email": "Fax_Number"}}}, "Fax_Number is not a field of the CRM module Vendors"),
        ({"items": {"field_map": {"name": None}}}, "items.field_map.Products.name: Name must be mapped to a CRM field"),
        ({"items": "all of them"}, "items: expected a mapping of keys"),
        (
            # The triggers app registers the key; its own tests cover the rest (tests/triggers).
            {"triggers": {"mode": "quote"}},
            "triggers.create_quote_stage: required when the mode is quote",
        ),
        ({"transactions": {"enabled": True}}, "transactions.enabled: needs customers, vendors and items in the file"),
        ({"connection": {"client_id": "x"}}, "connection.accounts_url: required"),
    ],
)
def test_invalid_files_name_the_key_and_change_nothing(tmp_path, org, sandbox, change, expected):
    data = config(sandbox, customers=None, vendors={"view": "All Vendors"}, items={"view": "All Products"})
    for key, value in change.items():
        data[key] = value
    if "transactions" in change:
        data.pop("customers", None)
    with pytest.raises(CommandError) as exc:
        apply(tmp_path, org, data)
    message = str(exc.value)
    assert "nothing was changed" in message
    assert expected in message
    assert not CrmConnection.objects.exists()
    assert not ModuleConfig.objects.exists()


def test_prerequisite_failure_in_the_file(tmp_path, org, sandbox):
    sandbox.set_org(edition="standard")
    with pytest.raises(CommandError, match=r"connection: Zoho CRM organization .* is on the Standard edition"):
        apply(tmp_path, org, config(sandbox))
    assert not CrmConnection.objects.exists()


def test_wrong_credentials_in_the_file(tmp_path, org, sandbox):
    data = config(sandbox)
    data["connection"]["refresh_token"] = "1000.nope"
    with pytest.raises(CommandError, match="connection: Zoho CRM refused these credentials"):
        apply(tmp_path, org, data)


def test_syntax_errors_unknown_org_and_missing_file(tmp_path, org):
    with pytest.raises(CommandError, match=r"file: not valid YAML or JSON at line \d+, column \d+"):
        apply(tmp_path, org, None, text="sync:\n  paused: [\n")
    with pytest.raises(CommandError, match="--org: no organization with the slug 'nope'"):
        call_command("crm_config", "show", "--org", "nope")
    with pytest.raises(CommandError, match="is not a readable file"):
        call_command("crm_config", "apply", str(tmp_path / "missing.yaml"), "--org", org.slug)


def test_not_connected_file_without_connection(tmp_path, org):
    with pytest.raises(CommandError, match="connection: required: this organization is not connected"):
        apply(tmp_path, org, {"sync": {"paused": True}})


def test_a_registered_triggers_section_validates_applies_and_shows(tmp_path, org, sandbox):
    applied = []
    hooks.register_config_section(
        "triggers",
        validate=lambda value, path: (
            [] if value.get("mode") in ("off", "quote") else [(f"{path}.mode", f"{path}.mode: bad")]
        ),
        apply=lambda connection, value, actor: applied.append(value),
        show=lambda connection: {"mode": "quote"},
    )
    apply(tmp_path, org, config(sandbox, triggers={"mode": "quote", "create_quote_stage": "Qualification"}))
    assert applied == [{"mode": "quote", "create_quote_stage": "Qualification"}]
    assert yaml.safe_load(show(org))["triggers"] == {"mode": "quote"}
    with pytest.raises(CommandError, match=r"triggers\.mode: bad"):
        apply(tmp_path, org, config(sandbox, triggers={"mode": "invoice"}))
