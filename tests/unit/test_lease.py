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


class TestLeftoverLease:
    """A lease whose holder ran on this host and has ended is a leftover: taken at once."""

    def ended_pid(self) -> int:
        import subprocess
        import sys

        proc = subprocess.Popen([sys.executable, "-c", "pass"])
        proc.wait()
        return proc.pid

    def test_a_dead_local_holder_is_taken_over_at_once(self):
        import socket

        dead = Lease("c1", 30, f"{socket.gethostname()}:{self.ended_pid()}:old")
        assert dead.acquire()
        assert Lease("c1", 30).acquire()

    def test_a_live_local_holder_keeps_it(self):
        import os
        import socket

        assert Lease("c1", 30, f"{socket.gethostname()}:{os.getppid()}:other").acquire()
        assert not Lease("c1", 30).acquire()

    def test_another_hosts_holder_keeps_it(self):
        assert Lease("c1", 30, f"some-other-host:{self.ended_pid()}:x").acquire()
        assert not Lease("c1", 30).acquire()

    def test_this_process_is_never_a_leftover(self):
        import os
        import socket

        assert Lease("c1", 30, f"{socket.gethostname()}:{os.getpid()}:twin").acquire()
        assert not Lease("c1", 30).acquire()
