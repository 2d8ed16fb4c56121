from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from books.services.demo import DEMO_EMAIL, DEMO_PASSWORD, demo_seed


class Command(BaseCommand):
    help = "Create the demo organization (slug 'demo', admin admin@demo.test / demo). Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=300)
        parser.add_argument("--vendors", type=int, default=60)
        parser.add_argument("--items", type=int, default=80)
        parser.add_argument("--transactions", type=int, default=250)

    def handle(self, *args: Any, **options: Any) -> None:
        for key in ("customers", "vendors", "items", "transactions"):
            if options[key] < 0:
                self.stderr.write(f"--{key}: must be 0 or more")
                raise SystemExit(2)
        result = demo_seed(
            customers=options["customers"],
            vendors=options["vendors"],
            items=options["items"],
            transactions=options["transactions"],
        )
        verb = "Created" if result.created else "Already present:"
        self.stdout.write(f"{verb} demo organization '{result.organization.name}' (slug demo).")
        self.stdout.write(f"Sign in as {DEMO_EMAIL} with password {DEMO_PASSWORD}")
