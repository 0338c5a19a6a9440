"""Create the local operator account once, printing its generated password a single time."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from dashboard.access.permissions import ensure_roles


class Command(BaseCommand):
    help = "Create the local 'operator' account with a random password unless it already exists."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="operator")

    def handle(self, *args, username: str, **options) -> None:
        users = get_user_model()
        if users.objects.filter(username=username).exists():
            self.stdout.write(
                f"Account '{username}' exists (new password: python manage.py changepassword {username})."
            )
            return
        password = secrets.token_urlsafe(12)
        user = users.objects.create_superuser(username=username, email="", password=password)
        ensure_roles()
        user.groups.add(Group.objects.get(name="operators"))
        self.stdout.write(self.style.SUCCESS(f"Created account '{username}' with password: {password}"))
        self.stdout.write("This password is shown once; it is stored only as a hash.")
