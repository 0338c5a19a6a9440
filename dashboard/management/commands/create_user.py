"""Create a dashboard account with a role: viewer (reads) or operator (acts)."""

from __future__ import annotations

import secrets
import sys

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from dashboard.access.permissions import ensure_roles

ROLES = {"viewer": "viewers", "operator": "operators"}


class Command(BaseCommand):
    help = "Create an account in a role (viewer or operator); prints a generated password once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", choices=sorted(ROLES), default="viewer")
        parser.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    def handle(self, *args, username: str, role: str, password_stdin: bool, **options) -> None:
        users = get_user_model()
        if users.objects.filter(username=username).exists():
            raise CommandError(f"user '{username}' exists; change its role in the admin (/admin/) or with the groups")
        password = sys.stdin.readline().rstrip("\n") if password_stdin else secrets.token_urlsafe(12)
        try:
            validate_password(password)
        except ValidationError as exc:
            raise CommandError("password refused: " + " ".join(exc.messages)) from None
        ensure_roles()
        user = users.objects.create_user(username=username, password=password)
        user.groups.add(Group.objects.get(name=ROLES[role]))
        self.stdout.write(self.style.SUCCESS(f"Created {role} '{username}'."))
        if not password_stdin:
            self.stdout.write(f"Password (shown once, stored only as a hash): {password}")
