"""The notification channel against the live sandbox (subscribe, renew, unsubscribe, the connection's listeners),
Change Preference's validation, and the `triggers:` key of the integration file (apply, idempotence, show,
messages that name the key)."""

from __future__ import annotations

import datetime
import io
import json

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.utils import timezone

from books.errors import ApplicationError
from crm_integration.services import connections
from tests.triggers.conftest import APPROVE_STAGE, CREATE_STAGE, configure_customers, notification
from triggers.models import ChannelStatus, DealEvent, NotificationChannel, TriggerLog, TriggerPreference
from triggers.services import channels, preferences
from triggers.services.notifications import notification_receive

pytestmark = pytest.mark.django_db


def crm_channels(sandbox) -> list[dict]:
    response = sandbox.api("GET", "actions/watch")
    return [] if response.status_code == 204 else response.json()["watch"]


def test_saving_a_mode_subscribes_with_a_hashed_token_and_off_unsubscribes(sandbox, connected, settings):
    settings.LB_PUBLIC_BASE_URL = "http://127.0.0.1:1/"
    preferences.trigger_preferences_save(
        connection=connected,
        actor=None,
        mode="quote",
        create_quote_stage=CREATE_STAGE,
        approve_quote_stage=APPROVE_STAGE,
    )
    [channel] = NotificationChannel.objects.filter(status="active")
    [remote] = crm_channels(sandbox)
    assert remote["channel_id"] == channel.channel_id
    assert channel.channel_id.isdigit()
    assert remote["notify_url"] == "http://127.0.0.1:1/integrations/zoho-crm/notify/" == channel.notify_url
    assert sorted(remote["events"]) == ["Deals.create", "Deals.edit"]
    # Only the hash is kept: the CRM's token hashes to it, and appears nowhere in our row.
    assert channels.token_hash(remote["token"]) == channel.token_hash
    assert remote["token"] not in json.dumps(list(NotificationChannel.objects.values()), default=str)
    assert channel.expires_at > timezone.now() + datetime.timedelta(days=5)

    preferences.trigger_preferences_save(connection=connected, actor=None, mode="off")
    assert crm_channels(sandbox) == []
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.DISABLED


def test_renewal_extends_the_channel_and_rotates_its_token_with_a_grace(sandbox, connected):
    configure_customers(connected)
    preferences.trigger_preferences_save(connection=connected, actor=None, mode="invoice")
    channel, old_token = channels.channel_subscribe(connection=connected)
    soon = timezone.now() + datetime.timedelta(hours=2)
    NotificationChannel.objects.filter(pk=channel.pk).update(expires_at=soon)
    not_due = timezone.now() - datetime.timedelta(days=3)
    assert channels.channels_renew_due(now=not_due) == 0

    assert channels.channels_renew_due() == 1
    channel.refresh_from_db()
    [remote] = crm_channels(sandbox)
    assert remote["channel_id"] == channel.channel_id
    assert channel.expires_at > timezone.now() + datetime.timedelta(days=5)
    assert channels.token_hash(remote["token"]) == channel.token_hash != channels.token_hash(old_token)
    # The old token still opens the door for notifications already on their way, then no more.
    notification_receive(json.dumps(notification(channel.channel_id, old_token, "77")).encode())
    assert DealEvent.objects.count() == 1
    NotificationChannel.objects.filter(pk=channel.pk).update(
        previous_token_valid_until=timezone.now() - datetime.timedelta(seconds=1)
    )
    with pytest.raises(Exception, match="wrong token"):
        notification_receive(json.dumps(notification(channel.channel_id, old_token, "78")).encode())


def test_a_due_channel_of_a_disabled_connection_is_dropped_not_renewed(sandbox, connected):
    configure_customers(connected)
    preferences.trigger_preferences_save(connection=connected, actor=None, mode="invoice")
    connected.status = "disabled"
    connected.save()
    NotificationChannel.objects.update(expires_at=timezone.now() + datetime.timedelta(hours=1))
    assert channels.channels_renew_due() == 0
    assert NotificationChannel.objects.get().status == ChannelStatus.DISABLED
    assert crm_channels(sandbox) == []


def test_disable_unsubscribes_and_enable_subscribes_again(
    sandbox, connected, admin_user, django_capture_on_commit_callbacks
):
    configure_customers(connected)
    preferences.trigger_preferences_save(connection=connected, actor=None, mode="invoice")
    assert len(crm_channels(sandbox)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        connections.connection_disable(connection=connected, actor=admin_user)
    assert crm_channels(sandbox) == []
    assert not NotificationChannel.objects.filter(status="active").exists()
    connected.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        connections.connection_enable(connection=connected, actor=admin_user)
    [remote] = crm_channels(sandbox)
    assert NotificationChannel.objects.get(status="active").channel_id == remote["channel_id"]


def test_pointing_at_another_crm_org_drops_channels_and_turns_triggers_off(sandbox, connected):
    configure_customers(connected)
    preferences.trigger_preferences_save(connection=connected, actor=None, mode="invoice")
    channels.on_crm_org_changed(connection=connected, actor=None)
    assert not NotificationChannel.objects.filter(status="active").exists()
    assert TriggerPreference.objects.get().mode == "off"
    assert "another Zoho CRM organization" in TriggerLog.objects.get(outcome="info").reason


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"mode": "sometimes"}, "mode", "mode: 'sometimes' is not one of off, quote, invoice"),
        (
            {"mode": "quote", "approve_quote_stage": APPROVE_STAGE},
            "create_quote_stage",
            "create_quote_stage: required when the mode is quote",
        ),
        (
            {"mode": "quote", "create_quote_stage": "Foo", "approve_quote_stage": APPROVE_STAGE},
            "create_quote_stage",
            "create_quote_stage: 'Foo' is not a stage of the Deals pipeline (stages: Qualification, Needs Analysis",
        ),
        (
            {"mode": "quote", "create_quote_stage": APPROVE_STAGE, "approve_quote_stage": CREATE_STAGE},
            "approve_quote_stage",
            f"approve_quote_stage: '{CREATE_STAGE}' comes before the create quote stage",
        ),
        (
            {"mode": "quote", "create_quote_stage": CREATE_STAGE, "approve_quote_stage": CREATE_STAGE},
            "approve_quote_stage",
            "approve_quote_stage: must differ from create_quote_stage",
        ),
        (
            {"mode": "quote", "create_quote_stage": "Closed Lost", "approve_quote_stage": "Closed Lost to Competition"},
            "create_quote_stage",
            "create_quote_stage: 'Closed Lost' is a lost stage",
        ),
    ],
)
def test_preference_validation_names_the_field(sandbox, connected, kwargs, field, message):
    with pytest.raises(ApplicationError) as caught:
        preferences.trigger_preferences_save(connection=connected, actor=None, **kwargs)
    assert caught.value.field == field
    assert caught.value.message.startswith(message)
    assert not TriggerPreference.objects.exists()
    assert crm_channels(sandbox) == []


# --- the integration file ------------------------------------------------------------------------------------


def _file(sandbox, triggers) -> dict:
    return {
        "connection": sandbox.credentials_json(),
        "customers": {"module": "accounts", "extent": "fetch_from_crm", "duplicates": "skip"},
        "triggers": triggers,
    }


def _apply(tmp_path, org, data) -> str:
    path = tmp_path / "lb.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    out = io.StringIO()
    call_command("crm_config", "apply", str(path), "--org", org.slug, stdout=out)
    return out.getvalue()


def _show(org) -> dict:
    out = io.StringIO()
    call_command("crm_config", "show", "--org", org.slug, stdout=out)
    return yaml.safe_load(out.getvalue())


def _watch_writes(sandbox) -> int:
    calls = sandbox.counters()["calls"]
    return sum(n for k, n in calls.items() if k.split(" ")[0] in ("POST", "PUT", "DELETE") and "actions/watch" in k)


@pytest.mark.django_db(transaction=True)  # the channel changes once the file's transaction has committed
def test_the_triggers_key_applies_idempotently_and_shows(tmp_path, org, sandbox):
    triggers = {"mode": "quote", "create_quote_stage": CREATE_STAGE, "approve_quote_stage": APPROVE_STAGE}
    report = _apply(tmp_path, org, _file(sandbox, triggers))
    assert "triggers: applied" in report
    assert _show(org)["triggers"] == triggers
    assert len(crm_channels(sandbox)) == 1
    channel = NotificationChannel.objects.get(status="active")
    sandbox.reset_counters()

    _apply(tmp_path, org, _file(sandbox, triggers))
    assert _watch_writes(sandbox) == 0
    assert NotificationChannel.objects.get(status="active").token_hash == channel.token_hash
    assert _show(org)["triggers"] == triggers

    # YAML's bare `off` (false) is off too.
    path = tmp_path / "off.yaml"
    text = yaml.safe_dump(_file(sandbox, {"mode": "invoice"}), sort_keys=False).replace("mode: invoice", "mode: off")
    path.write_text(text)
    call_command("crm_config", "apply", str(path), "--org", org.slug, stdout=io.StringIO())
    assert _show(org)["triggers"] == {"mode": "off"}
    assert crm_channels(sandbox) == []


@pytest.mark.django_db(transaction=True)
def test_a_file_that_fails_after_the_triggers_key_leaves_no_channel_in_the_crm(tmp_path, org, sandbox, monkeypatch):
    """The whole file is rolled back, so the CRM must not keep a channel (or a new token) Books does not know."""
    triggers = {"mode": "invoice"}
    _apply(tmp_path, org, _file(sandbox, triggers))
    channel = NotificationChannel.objects.get(status="active")
    [before] = crm_channels(sandbox)

    def fail(**_: object) -> None:
        raise ApplicationError("interval_minutes: refused for the test", field="interval_minutes")

    monkeypatch.setattr(connections, "connection_set_sync_options", fail)
    quote = {"mode": "quote", "create_quote_stage": CREATE_STAGE, "approve_quote_stage": APPROVE_STAGE}
    with pytest.raises(CommandError, match="nothing was changed"):
        _apply(tmp_path, org, _file(sandbox, quote))
    assert crm_channels(sandbox) == [before]  # same channel, same token: notifications still verify
    assert NotificationChannel.objects.get(status="active").token_hash == channel.token_hash
    assert _show(org)["triggers"] == triggers

    with pytest.raises(CommandError, match="nothing was changed"):
        _apply(tmp_path, org, _file(sandbox, {"mode": "off"}))
    assert crm_channels(sandbox) == [before]
    assert NotificationChannel.objects.filter(status="active").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_subscription_refused_after_the_file_committed_says_so_and_a_second_apply_retries(
    tmp_path, org, sandbox, monkeypatch
):
    real = channels.channel_subscribe

    def refused(**_: object) -> None:
        raise ApplicationError("triggers: Zoho CRM refused the subscription (for the test)", status=502)

    monkeypatch.setattr(channels, "channel_subscribe", refused)
    with pytest.raises(CommandError) as caught:
        _apply(tmp_path, org, _file(sandbox, {"mode": "invoice"}))
    message = str(caught.value)
    assert "nothing was changed" not in message
    assert "the rest was saved, but the subscription to Zoho CRM deal notifications could not be changed" in message
    assert "Zoho CRM refused the subscription (for the test)" in message
    assert _show(org)["triggers"] == {"mode": "invoice"}
    assert crm_channels(sandbox) == []

    monkeypatch.setattr(channels, "channel_subscribe", real)
    assert "triggers: applied" in _apply(tmp_path, org, _file(sandbox, {"mode": "invoice"}))
    assert len(crm_channels(sandbox)) == 1
    assert NotificationChannel.objects.filter(status="active").count() == 1


@pytest.mark.parametrize(
    ("triggers", "expected"),
    [
        ({"mode": "quote"}, "triggers.create_quote_stage: required when the mode is quote"),
        ({"mode": "always"}, "triggers.mode: 'always' is not one of off, quote, invoice"),
        ({"mode": "invoice", "colour": "red"}, "triggers.colour: unknown key"),
        ("quote", "triggers: expected a mapping of keys"),
        (
            {"mode": "quote", "create_quote_stage": "Foo", "approve_quote_stage": APPROVE_STAGE},
            "triggers.create_quote_stage: 'Foo' is not a stage of the Deals pipeline (stages: Qualification,",
        ),
    ],
)
def test_an_invalid_triggers_key_names_it_and_changes_nothing(tmp_path, org, sandbox, triggers, expected):
    with pytest.raises(CommandError) as caught:
        _apply(tmp_path, org, _file(sandbox, triggers))
    assert "nothing was changed" in str(caught.value)
    assert expected in str(caught.value)
    assert not TriggerPreference.objects.exists()


def test_an_overlapping_renewal_run_leaves_a_claimed_channel_alone(sandbox, connected, monkeypatch):
    configure_customers(connected)
    preferences.trigger_preferences_save(connection=connected, actor=None, mode="invoice")
    NotificationChannel.objects.update(expires_at=timezone.now() + datetime.timedelta(hours=1))
    subscribed = []
    original = channels.channel_subscribe

    def subscribe_after_another_run(**kwargs):
        subscribed.append(kwargs["connection"].pk)
        # Another beat run that read the channel before this one claimed it: it must skip it.
        assert channels.channels_renew_due() == 0
        return original(**kwargs)

    monkeypatch.setattr(channels, "channel_subscribe", subscribe_after_another_run)
    assert channels.channels_renew_due() == 1
    assert subscribed == [connected.pk]
