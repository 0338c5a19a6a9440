"""Addresses: group ids Kafka allows, and what a wrong method gets."""

from urllib.parse import unquote

import pytest
from django.urls import resolve, reverse

from dashboard.clusters import default_cluster
from dashboard.state import store
from tests.factories import snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]

ODD_IDS = ["a\nb", "line\r\nbreak", "tab\there", "slash/and space", "../..", "<script>", "ü-ñ"]


@pytest.mark.parametrize("group", ODD_IDS)
def test_every_group_id_has_an_address_that_leads_back_to_it(group):
    for name in ("group", "reset_offsets", "reset_preview", "reset_apply"):
        url = reverse(name, args=["local", group])
        assert "\n" not in url and "\r" not in url and "\t" not in url
        # The server decodes the path before matching (%0A -> newline).
        match = resolve(unquote(url))
        assert match.url_name == name and match.kwargs["group"] == group
    api = reverse("api:group", args=["local", group])
    assert resolve(unquote(api)).kwargs["group"] == group


def test_a_group_with_a_line_break_in_its_id_gets_its_page(viewer):
    cluster = default_cluster().name
    store.save(snapshot(cluster=cluster, groups={"odd\ngroup": {("orders", 0): 90}}))
    response = viewer.get(reverse("group", args=[cluster, "odd\ngroup"]))
    assert response.status_code == 200
    assert "odd\ngroup" in response.content.decode()
    listing = viewer.get(reverse("groups", args=[cluster])).content.decode()
    assert reverse("group", args=[cluster, "odd\ngroup"]) in listing  # linked from the list


def test_get_on_an_action_says_what_to_do_instead_of_a_blank_page(viewer):
    cluster = default_cluster().name
    for url in (
        reverse("reset_apply", args=[cluster, "g1"]),
        reverse("dlq_reprocess", args=[cluster, "orders-dlq"]),
        reverse("silence_create"),
    ):
        response = viewer.get(url)
        assert response.status_code == 405, url
        body = response.content.decode()
        assert "takes POST" in body and "Open the page the action belongs to" in body, url
        assert response["Allow"] == "POST"
        assert "Traceback" not in body


def test_api_wrong_method_stays_json(viewer):
    response = viewer.post(reverse("api:clusters"))
    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json")
    assert "error" in response.json()
