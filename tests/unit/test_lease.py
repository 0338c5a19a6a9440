"""One poller per cluster across processes: the database lease."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.models import PollerLease
from dashboard.state.lease import Lease

pytestmark = pytest.mark.django_db


class TestLease:
    def test_first_takes_second_waits(self):
        a, b = Lease("c1", 30, "a"), Lease("c1", 30, "b")
        assert a.acquire() and not b.acquire()
        assert a.acquire()  # renewing is fine
        assert b.holder() == "a"

    def test_takeover_after_the_holder_dies(self):
        a, b = Lease("c1", 30, "a"), Lease("c1", 30, "b")
        assert a.acquire()
        PollerLease.objects.filter(cluster="c1").update(expires_at=timezone.now() - timedelta(seconds=1))
        assert b.acquire()
        assert not a.acquire()  # the old holder must not come back while b renews

    def test_release_lets_the_next_one_in_at_once(self):
        a, b = Lease("c1", 30, "a"), Lease("c1", 30, "b")
        a.acquire()
        a.release()
        assert b.acquire()

    def test_clusters_are_independent(self):
        assert Lease("c1", 30, "a").acquire() and Lease("c2", 30, "b").acquire()
