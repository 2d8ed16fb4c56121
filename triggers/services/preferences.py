"""Change Preference: the trigger mode (Quote, Invoice, off) and the Create Quote / Approve Quote stages, checked
against the live Deals pipeline; saving subscribes the connection to the CRM's deal notifications (or drops the
subscription when triggers are turned off). Also the `triggers:` key of the integration file (crm_config)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import transaction

from books.errors import ApplicationError
from books.models import User
from crm_integration.client import CrmClient, Pipeline
from crm_integration.models import CrmConnection
from crm_integration.services.clients import crm_client_for, crm_errors
from crm_integration.services.modules import ValidationProblems
from triggers.models import ChannelStatus, TriggerMode, TriggerPreference
from triggers.services import channels

CONFIG_KEYS = ("mode", "create_quote_stage", "approve_quote_stage")


@dataclass(frozen=True)
class StageChoice:
    name: str
    probability: int | None
    forecast_type: str
    sequence: int


def pipeline_stages(*, connection: CrmConnection, client: CrmClient | None = None) -> list[StageChoice]:
    """The stages of the Deals pipeline(s), default pipeline first, in pipeline order, each once."""
    client = client or crm_client_for(connection, interactive=True)
    with crm_errors(connection, field="create_quote_stage"):
        pipelines: list[Pipeline] = client.list_pipelines("Deals")
    seen: set[str] = set()
    out: list[StageChoice] = []
    for pipeline in sorted(pipelines, key=lambda p: not p.is_default):
        for stage in pipeline.stages:
            if stage.name and stage.name not in seen:
                seen.add(stage.name)
                out.append(StageChoice(stage.name, stage.probability, stage.forecast_type, len(out)))
    return out


def preference_get(*, connection: CrmConnection) -> TriggerPreference:
    """The connection's preference (an unsaved "off" one when never set)."""
    found = TriggerPreference.objects.filter(connection=connection).first()
    return found or TriggerPreference(connection=connection, mode=TriggerMode.OFF)


def _structure_problems(mode: Any, create: Any, approve: Any, prefix: str) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if mode not in TriggerMode.values:
        problems.append(
            (f"{prefix}mode", f"{prefix}mode: '{str(mode)[:40]}' is not one of {', '.join(TriggerMode.values)}")
        )
    for key, value in (("create_quote_stage", create), ("approve_quote_stage", approve)):
        if not isinstance(value, str):
            problems.append((f"{prefix}{key}", f"{prefix}{key}: expected a stage name (text)"))
        elif len(value) > 120:
            problems.append((f"{prefix}{key}", f"{prefix}{key}: at most 120 characters"))
    if problems or mode != TriggerMode.QUOTE:
        return problems
    if not create.strip():
        problems.append((f"{prefix}create_quote_stage", f"{prefix}create_quote_stage: required when the mode is quote"))
    if not approve.strip():
        problems.append(
            (f"{prefix}approve_quote_stage", f"{prefix}approve_quote_stage: required when the mode is quote")
        )
    elif create.strip() == approve.strip():
        problems.append(
            (
                f"{prefix}approve_quote_stage",
                f"{prefix}approve_quote_stage: must differ from create_quote_stage ('{approve.strip()}')",
            )
        )
    return problems


def _stage_problems(stages: Sequence[StageChoice], create: str, approve: str, prefix: str) -> list[tuple[str, str]]:
    by_name = {s.name: s for s in stages}
    names = ", ".join(s.name for s in stages)
    problems: list[tuple[str, str]] = []
    for key, value in (("create_quote_stage", create), ("approve_quote_stage", approve)):
        if value not in by_name:
            problems.append(
                (f"{prefix}{key}", f"{prefix}{key}: '{value}' is not a stage of the Deals pipeline (stages: {names})")
            )
    if problems:
        return problems
    if by_name[approve].sequence < by_name[create].sequence:
        problems.append(
            (
                f"{prefix}approve_quote_stage",
                f"{prefix}approve_quote_stage: '{approve}' comes before the create quote stage '{create}' in the "
                "Deals pipeline",
            )
        )
    if by_name[create].forecast_type == "Closed Lost" or by_name[create].probability == 0:
        problems.append((f"{prefix}create_quote_stage", f"{prefix}create_quote_stage: '{create}' is a lost stage"))
    return problems


def trigger_preferences_save(
    *,
    connection: CrmConnection,
    actor: User | None,
    mode: Any,
    create_quote_stage: Any = "",
    approve_quote_stage: Any = "",
    client: CrmClient | None = None,
    prefix: str = "",
    channel_after_commit: bool = False,
) -> TriggerPreference:
    """Saves the trigger preference. With a mode other than off, the stages are checked against the live Deals
    pipeline and the connection is subscribed to deal notifications (a healthy channel is kept when nothing
    changed, so saving the same preference twice makes no CRM write); off unsubscribes. Raises
    ValidationProblems naming each wrong field (`prefix` + field), ApplicationError when the CRM refuses.

    Change Preference subscribes first, so a refusal saves nothing. Inside a larger transaction (the integration
    file) pass `channel_after_commit`: the CRM's channel is changed once the transaction has committed, so a
    later failure that rolls it back leaves no channel in the CRM that Books does not know (or a token Books
    no longer accepts); when the CRM refuses then, the ApplicationError says what was saved (extra["applied"])."""
    create = create_quote_stage.strip() if isinstance(create_quote_stage, str) else create_quote_stage
    approve = approve_quote_stage.strip() if isinstance(approve_quote_stage, str) else approve_quote_stage
    if create is None:
        create = ""
    if approve is None:
        approve = ""
    problems = _structure_problems(mode, create, approve, prefix)
    if problems:
        raise ValidationProblems(problems)
    if mode != TriggerMode.QUOTE:
        create = approve = ""
    if mode != TriggerMode.OFF and not connection.is_active:
        raise ApplicationError(
            f"{prefix}mode: the integration is {connection.get_status_display().lower()}; deal triggers need a "
            "connected integration",
            status=409,
            field=f"{prefix}mode",
        )
    current = TriggerPreference.objects.filter(connection=connection).first()
    stages_json: list[dict[str, Any]] = list(current.pipeline_stages) if current else []
    change_channel: Callable[[], object] | None = None
    if mode != TriggerMode.OFF:
        crm = client or crm_client_for(connection, interactive=True)
        stages = pipeline_stages(connection=connection, client=crm)
        if mode == TriggerMode.QUOTE:
            problems = _stage_problems(stages, create, approve, prefix)
            if problems:
                raise ValidationProblems(problems)
        stages_json = [
            {"name": s.name, "probability": s.probability, "forecast_type": s.forecast_type, "sequence": s.sequence}
            for s in stages
        ]
        unchanged = current is not None and (current.mode, current.create_quote_stage, current.approve_quote_stage) == (
            mode,
            create,
            approve,
        )
        channel = channels.channel_active(connection=connection)
        healthy = channel is not None and channel.notify_url == channels.notify_url()
        if not (unchanged and healthy):
            change_channel = partial(channels.channel_subscribe, connection=connection, client=crm)
            if not channel_after_commit:
                change_channel()
                change_channel = None
    else:
        change_channel = partial(
            channels.channels_unsubscribe, connection=connection, reason="deal triggers were turned off", client=client
        )
    with transaction.atomic():
        preference, _ = TriggerPreference.objects.select_for_update().get_or_create(connection=connection)
        preference.mode = mode
        preference.create_quote_stage = create
        preference.approve_quote_stage = approve
        preference.pipeline_stages = stages_json
        preference.updated_by = actor
        preference.save()
    if change_channel is not None:
        if channel_after_commit:
            transaction.on_commit(partial(_channel_change_committed, change_channel, prefix))
        else:
            change_channel()
    return preference


def _channel_change_committed(change: Callable[[], object], prefix: str) -> None:
    try:
        change()
    except ApplicationError as exc:
        raise ApplicationError(
            f"{prefix}mode: the rest was saved, but the subscription to Zoho CRM deal notifications could not be "
            f"changed: {exc.message} (apply it again to retry)",
            code=exc.code,
            status=exc.status,
            field=f"{prefix}mode",
            extra={"applied": True},
        ) from None


# --- the integration file's `triggers:` key (crm_integration.hooks.register_config_section) ---------------------


def config_validate(value: Any, path: str) -> list[tuple[str, str]]:
    """Structure only (the stages are checked against the live pipeline when the file is applied)."""
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        return [(path, f"{path}: expected a mapping of keys ({', '.join(CONFIG_KEYS)})")]
    problems = [
        (f"{path}.{key}", f"{path}.{key}: unknown key (known: {', '.join(CONFIG_KEYS)})")
        for key in value
        if key not in CONFIG_KEYS
    ]
    mode = value.get("mode", TriggerMode.OFF)
    if mode is False:  # YAML 1.1 reads a bare `off` as false
        mode = TriggerMode.OFF
    return problems + _structure_problems(
        mode, value.get("create_quote_stage") or "", value.get("approve_quote_stage") or "", f"{path}."
    )


def config_apply(connection: CrmConnection, value: Any, actor: User | None) -> None:
    value = dict(value or {})
    mode = value.get("mode", TriggerMode.OFF)
    if mode is False:
        mode = TriggerMode.OFF
    trigger_preferences_save(
        connection=connection,
        actor=actor,
        mode=mode,
        create_quote_stage=value.get("create_quote_stage") or "",
        approve_quote_stage=value.get("approve_quote_stage") or "",
        prefix="triggers.",
        channel_after_commit=True,
    )


def config_show(connection: CrmConnection) -> dict[str, Any] | None:
    preference = TriggerPreference.objects.filter(connection=connection).first()
    if preference is None:
        return None
    out: dict[str, Any] = {"mode": preference.mode}
    if preference.mode == TriggerMode.QUOTE:
        out["create_quote_stage"] = preference.create_quote_stage
        out["approve_quote_stage"] = preference.approve_quote_stage
    return out


def channel_state(*, connection: CrmConnection) -> str:
    """A sentence for the panel about the subscription."""
    channel = channels.channel_active(connection=connection)
    if channel is None:
        last = connection.notification_channels.filter(status=ChannelStatus.DISABLED).order_by("-updated_at").first()
        reason = f" ({last.status_reason})" if last is not None and last.status_reason else ""
        return f"Not subscribed to Zoho CRM deal notifications{reason}."
    when = channel.expires_at.strftime("%Y-%m-%d %H:%M UTC") if channel.expires_at else "unknown"
    return f"Subscribed to Zoho CRM deal notifications (channel {channel.channel_id}, renewed before {when})."
