"""Create a bearer token for the JSON API, printing it a single time (only its digest is stored)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from dashboard.access.tokens import create_token
from dashboard.models import ApiToken

NAME_MAX = ApiToken._meta.get_field("name").max_length


class Command(BaseCommand):
    help = (
        "Create an API token for a user and print it once (stdout: the token alone, so "
        "TOKEN=$(python manage.py create_api_token alice) works). Use it as 'Authorization: Bearer <token>'."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username", help="the existing user the token acts as")
        parser.add_argument("--name", default="", help="what the token is for, e.g. 'grafana' (shown in the admin)")

    def handle(self, *args, username: str, name: str, **options) -> None:
        if len(name) > NAME_MAX:
            raise CommandError(f"--name is too long (at most {NAME_MAX} characters)")
        users = get_user_model()
        try:
            user = users.objects.get(**{users.USERNAME_FIELD: username})
        except users.DoesNotExist:
            raise CommandError(
                f"no user named '{username}' (create one first, e.g. manage.py createsuperuser)"
            ) from None
        if not user.is_active:
            raise CommandError(f"user '{username}' is inactive; a token for it would be refused")
        row, token = create_token(user, name)
        self.stdout.write(token)
        self.stderr.write(
            f"Created API token {row.prefix}… for '{username}'"
            + (f" ({name})" if name else "")
            + ". It is shown only this once; only its SHA-256 is stored."
        )
