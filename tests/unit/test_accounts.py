from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from dashboard.access.permissions import can_operate

pytestmark = pytest.mark.django_db


class TestCreateUser:
    def test_roles(self):
        out = StringIO()
        call_command("create_user", "alice", "--role", "operator", stdout=out)
        call_command("create_user", "bob", stdout=StringIO())
        users = get_user_model().objects
        assert can_operate(users.get(username="alice")) and not can_operate(users.get(username="bob"))
        assert "Password (shown once" in out.getvalue()

    def test_read_only_mode_disables_operators(self, settings):
        call_command("create_user", "carol", "--role", "operator", stdout=StringIO())
        settings.READ_ONLY = True
        assert not can_operate(get_user_model().objects.get(username="carol"))

    def test_duplicate_and_weak_password(self, monkeypatch):
        call_command("create_user", "dave", stdout=StringIO())
        with pytest.raises(CommandError, match="exists"):
            call_command("create_user", "dave", stdout=StringIO())
        monkeypatch.setattr("sys.stdin", StringIO("123\n"))
        with pytest.raises(CommandError, match="password refused"):
            call_command("create_user", "erin", "--password-stdin", stdout=StringIO())
