"""`crm_config apply FILE --org SLUG` / `crm_config show --org SLUG [--json]`: the integration set-up as a file
(DESIGN.md). Parses and calls crm_integration.services.config_file; an invalid file changes nothing and the
command exits non-zero with one line per problem, each naming its key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from books.errors import ApplicationError
from books.models import Organization
from crm_integration.services.config_file import config_apply, config_dump, config_parse, config_show


class Command(BaseCommand):
    help = "Apply or show the Zoho CRM integration set-up of an organization as a YAML (or JSON) file."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        apply = sub.add_parser("apply", help="apply FILE ('-' reads standard input)")
        apply.add_argument("file")
        apply.add_argument("--org", required=True, help="the Books organization's slug")
        show = sub.add_parser("show", help="print the current set-up, secrets masked")
        show.add_argument("--org", required=True, help="the Books organization's slug")
        show.add_argument("--json", action="store_true", help="print JSON instead of YAML")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"--org: no organization with the slug '{options['org']}'")
        if options["action"] == "show":
            self.stdout.write(config_dump(config_show(organization=organization), as_json=options["json"]), ending="")
            return
        path = options["file"]
        if path == "-":
            import sys

            text = sys.stdin.read()
        else:
            file = Path(path)
            if not file.is_file():
                raise CommandError(f"FILE: {path} is not a readable file")
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise CommandError(f"FILE: {path} cannot be read as UTF-8 text ({exc.__class__.__name__})") from None
        try:
            report = config_apply(organization=organization, data=config_parse(text))
        except ApplicationError as exc:
            if exc.extra.get("applied"):  # committed, then a step that follows the commit failed
                raise CommandError(f"{path}: {exc.message}") from None
            problems = exc.extra.get("problems") or [(exc.field or "", exc.message)]
            lines = "\n".join(f"  {message}" for _field, message in problems)
            raise CommandError(f"{path}: nothing was changed, because:\n{lines}") from None
        for line in report:
            self.stdout.write(line)
