"""`manage.py crm_sandbox serve | seed | credentials` (manage.py selects crm_sandbox.settings and the --db file).

serve --port P [--host H] [--db FILE] [--threads N]
seed [--db FILE] [--accounts N --contacts N --vendors N --products N --deals N] [--reset]
credentials [--db FILE] [--host H --port P]
"""

from __future__ import annotations

import json
import time
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

ADMIN_LOGIN = ("admin", "admin")


def _non_negative(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a whole number") from None
    if number < 0:
        raise ValueError(f"{value!r} must be 0 or more")
    return number


class Command(BaseCommand):
    help = "The Zoho CRM v8 sandbox: serve it, seed it, print its credentials."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, parser_class=ArgumentParser)
        serve = sub.add_parser("serve", help="run the sandbox server")
        serve.add_argument("--port", type=int, required=True)
        serve.add_argument("--host", default="127.0.0.1")
        serve.add_argument("--threads", type=int, default=24)
        seed = sub.add_parser("seed", help="create the org and generated data (once; --reset to redo)")
        from crm_sandbox.services.orgs import DEMO_COUNTS

        for name, default in DEMO_COUNTS.as_dict().items():
            seed.add_argument(f"--{name}", type=_non_negative, default=default, help=f"default {default}")
        seed.add_argument("--reset", action="store_true", help="wipe the default org's data and seed again")
        creds = sub.add_parser("credentials", help="print the OAuth credentials as JSON")
        creds.add_argument("--host", default=None)
        creds.add_argument("--port", type=int, default=None)
        for p in (serve, seed, creds):
            p.add_argument("--db", help="the sandbox's SQLite file (manage.py reads it)")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.SETTINGS_MODULE != "crm_sandbox.settings":
            raise CommandError("run it as `python manage.py crm_sandbox …` (manage.py selects the sandbox settings)")
        action = options["action"]
        self._migrate()
        if action == "serve":
            from crm_sandbox.server import serve
            from crm_sandbox.services import faults

            if not 0 < options["port"] < 65536:
                raise CommandError(f"--port must be between 1 and 65535, not {options['port']}")
            try:
                faults.init_from_env()
            except faults.FaultSpecError as exc:
                raise CommandError(f"CRM_SANDBOX_FAULTS / CRM_SANDBOX_FAULT_SEED: {exc}") from None
            serve(host=options["host"], port=options["port"], threads=max(4, options["threads"]))
        elif action == "seed":
            self._seed(options)
        elif action == "credentials":
            from crm_sandbox.services.credentials import credentials_json

            try:
                self.stdout.write(json.dumps(credentials_json(host=options["host"], port=options["port"])))
            except LookupError as exc:
                raise CommandError(str(exc)) from None

    def _migrate(self) -> None:
        call_command("migrate", interactive=False, verbosity=0)

    def _seed(self, options: dict[str, Any]) -> None:
        from django.contrib.auth import get_user_model

        from crm_sandbox.services import oauth
        from crm_sandbox.services.orgs import SeedCounts, sandbox_seed

        counts = SeedCounts(**{k: options[k] for k in SeedCounts().as_dict()})
        started = time.monotonic()
        org, seeded = sandbox_seed(counts=counts, reset=options["reset"])
        user_model = get_user_model()
        login = {user_model.USERNAME_FIELD: ADMIN_LOGIN[0]}
        if not user_model.objects.filter(**login).exists():
            user_model.objects.create_superuser(**login, email="admin@sandbox.test", password=ADMIN_LOGIN[1])
        oauth.client_ensure()
        if seeded:
            summary = ", ".join(f"{n} {k}" for k, n in counts.as_dict().items())
            self.stdout.write(f"Seeded {org.company_name} ({org.id}): {summary} in {time.monotonic() - started:.1f}s.")
        else:
            self.stdout.write(f"{org.company_name} ({org.id}) is already seeded; nothing done (use --reset to redo).")
        self.stdout.write(f"Sandbox pages: /admin/ and / — login {ADMIN_LOGIN[0]} / {ADMIN_LOGIN[1]}")
