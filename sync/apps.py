"""The sync engine: record links, sync runs and their failures (the history), one pipeline per module, locks,
Celery tasks and the beat schedule, pause and resume, instant sync, single-record fetch."""

from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "sync"

    def ready(self) -> None:
        # crm_integration cannot import sync (dependencies point triggers → sync → crm_integration): it exposes
        # hooks, and sync registers its starter, its panels and its listeners here.
        from crm_integration import hooks
        from sync import views
        from sync.services import links, runs

        hooks.register_sync_starter(runs.sync_start_for_hooks)
        hooks.register_panel(
            "sync-status",
            title="Sync status",
            template_name="sync/details_panel.html",
            context=views.details_panel_context,
            placement="details",
            order=50,
        )
        hooks.register_panel(
            "sync-runs",
            title="Sync runs",
            template_name="sync/history_panel.html",
            context=views.history_panel_context,
            placement="history",
            order=50,
        )
        hooks.connect_listener("crm_org_changed", links.on_crm_org_changed)
        hooks.connect_listener("module_saved", links.on_module_saved)

        # The accountant's CRM actions on Books pages and the Books API's CRM imports (books.extensions).
        from books import extensions
        from sync import apis
        from sync.web import fragments

        fragments.register()
        for pattern in apis.url_patterns():
            extensions.register_api_route(pattern)
