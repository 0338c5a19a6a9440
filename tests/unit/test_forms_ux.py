"""Forms say what to do: the login hint, words instead of "---------"."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from dashboard.access.permissions import ensure_roles

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def operator(client):
    ensure_roles()
    user = get_user_model().objects.create_user("op", password="pw-operator-123")
    user.groups.add(Group.objects.get(name="operators"))
    client.force_login(user)
    return client


def test_login_page_says_where_the_password_is(client):
    html = client.get(reverse("login")).content.decode()
    assert "make run" in html and "operator" in html and "changepassword" in html


def test_alert_rule_form_asks_for_a_condition_in_words(operator):
    html = operator.get(reverse("alert_rule_new")).content.decode()
    assert "---------" not in html and "Choose a condition…" in html


def test_silence_form_asks_for_a_rule_in_words(operator):
    html = operator.get(reverse("alerts")).content.decode()
    assert "---------" not in html and "Choose a rule…" in html
