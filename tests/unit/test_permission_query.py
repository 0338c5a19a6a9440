"""A user's permissions in one query (access.permissions.OnePermissionQuery): the same answer as
Django's ModelBackend for every kind of user, and a role given or taken shows on the next request."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dashboard.access.permissions import ensure_roles
from dashboard.access.throttle import ThrottledModelBackend
from dashboard.clusters import default_cluster
from dashboard.state import store
from tests.factories import snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]


def fresh(user):
    """The user as the next request loads it: nothing cached on the object."""
    return get_user_model().objects.get(pk=user.pk)


def test_the_same_permissions_as_djangos_backend_for_every_kind_of_user():
    ensure_roles()
    users = get_user_model().objects
    operators = Group.objects.get(name="operators")
    other = Group.objects.create(name="auditors")
    other.permissions.add(Permission.objects.get(codename="view_user"))
    viewer = users.create_user("viewer")
    operator = users.create_user("operator")
    operator.groups.add(operators)
    direct = users.create_user("direct")
    direct.user_permissions.add(Permission.objects.get(codename="change_alertrule"))
    both = users.create_user("both")
    both.groups.add(operators, other)
    both.user_permissions.add(Permission.objects.get(codename="operate"), Permission.objects.get(codename="add_user"))
    inactive = users.create_user("inactive", is_active=False)
    inactive.groups.add(operators)
    root = users.create_superuser("root")
    for user in (viewer, operator, direct, both, inactive, root):
        ours = ThrottledModelBackend().get_all_permissions(fresh(user))
        assert ours == ModelBackend().get_all_permissions(fresh(user)), user.username
    assert ThrottledModelBackend().get_all_permissions(fresh(both)) == {
        "dashboard.operate",
        "auth.add_user",
        "auth.view_user",
    }
    assert ThrottledModelBackend().get_all_permissions(fresh(viewer)) == set()
    assert len(ThrottledModelBackend().get_all_permissions(fresh(root))) == Permission.objects.count()


def test_the_group_page_asks_once_and_follows_a_role_change(client):
    ensure_roles()
    cluster = default_cluster().name
    store.save(snapshot(cluster=cluster))
    user = get_user_model().objects.create_user("someone", password="pw-someone-123")
    client.force_login(user)
    url = reverse("group", args=[cluster, "g1"])
    assert 'data-testid="reset-link"' not in client.get(url).content.decode()
    user.groups.add(Group.objects.get(name="operators"))
    with CaptureQueriesContext(connection) as queries:
        html = client.get(url).content.decode()
    assert 'data-testid="reset-link"' in html
    assert len([q for q in queries if "auth_permission" in q["sql"]]) == 1
    user.groups.clear()
    assert 'data-testid="reset-link"' not in client.get(url).content.decode()


def test_two_users_in_turn_each_see_their_own_role_name_and_token():
    """Nothing per user is shared between requests: the reset link, the name, the CSRF token."""
    ensure_roles()
    cluster = default_cluster().name
    store.save(snapshot(cluster=cluster))
    users = get_user_model().objects
    operator = users.create_user("op<b>", password="pw-operator-123")
    operator.groups.add(Group.objects.get(name="operators"))
    viewer = users.create_user("viewer1", password="pw-viewer-123")
    as_operator, as_viewer = Client(), Client()
    as_operator.force_login(operator)
    as_viewer.force_login(viewer)
    url = reverse("group", args=[cluster, "g1"])
    tokens = []
    for _ in range(2):
        html = as_operator.get(url).content.decode()
        assert 'data-testid="reset-link"' in html and "<span>op&lt;b&gt;</span>" in html and "viewer1" not in html
        tokens.append(html.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0])
        html = as_viewer.get(url).content.decode()
        assert 'data-testid="reset-link"' not in html and "<span>viewer1</span>" in html and "op&lt;b&gt;" not in html
        tokens.append(html.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0])
    assert len(set(tokens)) == 4  # masked afresh each time, from each user's own secret
    assert as_operator.cookies["csrftoken"].value != as_viewer.cookies["csrftoken"].value
