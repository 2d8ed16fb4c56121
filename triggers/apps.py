"""The CRM notification receiver (webhook), trigger preferences, and the deal-stage rules that create, approve,
decline and void quotes and invoices."""

from django.apps import AppConfig


class TriggersConfig(AppConfig):
    name = "triggers"

    def ready(self) -> None:
        # crm_integration cannot import triggers (dependencies point triggers → sync → crm_integration): the
        # panels, the `triggers:` key of the integration file and the connection listeners register here.
        from crm_integration import hooks
        from triggers import views
        from triggers.services import channels, preferences

        hooks.register_panel(
            "deal-triggers",
            title="Automate Based on the Deal/Potential's Stage",
            template_name="triggers/details_panel.html",
            context=views.details_panel_context,
            placement="details",
            order=60,
        )
        hooks.register_panel(
            "deal-trigger-log",
            title="Deal triggers",
            template_name="triggers/history_panel.html",
            context=views.history_panel_context,
            placement="history",
            order=60,
        )
        hooks.register_config_section(
            "triggers",
            validate=preferences.config_validate,
            apply=preferences.config_apply,
            show=preferences.config_show,
        )
        hooks.connect_listener("connection_disabled", channels.on_connection_disabled)
        hooks.connect_listener("connection_enabled", channels.on_connection_enabled)
        hooks.connect_listener("crm_org_changed", channels.on_crm_org_changed)
