"""The first snapshot is served as soon as the first cycle ends: on a fresh start and on restarts.

A restarted server used to wait out the lease its previous self held (three intervals plus the
request timeout, 25 s here) before polling. Now a clean stop releases the lease, and a lease left
by a killed process of this host is taken at once. The bound is the poll interval: far above a
tiny cluster's cycle plus the collector child's start on a busy machine, far below the lease.
"""

from __future__ import annotations

import re
import signal
import time
import urllib.error
import urllib.request

import pytest

from tests.faults.support import DashboardServer, wait_until

pytestmark = pytest.mark.broker

INTERVAL_S = 5.0


def ready(server: DashboardServer) -> bool:
    try:
        urllib.request.urlopen(server.url + "/readyz", timeout=2).read()
        return True
    except urllib.error.HTTPError:
        return False


def first_snapshot_after_start(server: DashboardServer) -> tuple[float, float]:
    """(seconds from the server answering to its first snapshot served, that cycle's own seconds)."""
    before = server.log().count("first snapshot")
    server.start()
    answered = time.monotonic()
    wait_until(lambda: ready(server), timeout=60, interval=0.05, what="/readyz ready")
    served = time.monotonic() - answered
    cycles = re.findall(r"first snapshot.* in (\d+) ms", server.log())
    assert len(cycles) == before + 1, server.log()
    return served, int(cycles[-1]) / 1000


def test_first_snapshot_within_an_interval_of_start_and_restart(broker, make_server):
    server = make_server(broker.bootstrap, cluster="first", POLL_INTERVAL=str(INTERVAL_S))
    seen = {}
    seen["fresh start"] = first_snapshot_after_start(server)
    server.stop(signal.SIGTERM)
    seen["after SIGTERM"] = first_snapshot_after_start(server)
    server.stop(signal.SIGKILL)
    seen["after SIGKILL"] = first_snapshot_after_start(server)
    print({k: f"served {s:.2f} s after answering, cycle {c * 1000:.0f} ms" for k, (s, c) in seen.items()})
    for how, (served, cycle) in seen.items():
        assert served < INTERVAL_S, f"{how}: first snapshot {served:.1f} s after start (its cycle took {cycle:.3f} s)"
    assert "waiting to take over" not in server.log()
