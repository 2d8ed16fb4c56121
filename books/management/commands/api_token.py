from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from books.models import User
from books.services.organizations import api_token_create


class Command(BaseCommand):
    help = "Print a new Books API token for a user (send it as 'Authorization: Zoho-oauthtoken <token>')."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")

    def handle(self, *args: Any, **options: Any) -> None:
        email = options["email"].strip().lower()
        user = User.objects.filter(email=email).first()
        if user is None:
            raise CommandError(f"email: no user with the email {email}")
        if not user.is_active:
            raise CommandError(f"email: the user {email} is inactive")
        _, raw = api_token_create(user=user)
        self.stdout.write(raw)
