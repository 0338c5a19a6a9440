"""Flaky-network scenarios, each run in a child process: `python -m tests.faults.flaky_scenarios NAME JSON`.

Why a child process: librdkafka 2.16 can abort() the whole process when a connection to a group
coordinator breaks while a coordinator-targeted admin request (DescribeConsumerGroups,
ListConsumerGroupOffsets) is being sent ("rd_kafka_enq_once_del_source_return: Assertion
`eonce->refcnt > 0' failed", confluentinc/librdkafka PR 5397, not in a release yet). Stalls and
dropped connections provoke exactly that, at random. In a child, an abort fails (or xfails) one
test instead of killing the test session.

The child runs its own TcpProxy on the port the broker advertises (the parent lends it, see
ProxiedBroker.proxy_released), collects snapshots through it, and prints a JSON summary of what
happened on stdout; the test asserts on that summary.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

from kafka_admin.config import ClusterConfig
from kafka_admin.snapshot.collect import SnapshotCollector, collect_snapshot
from kafka_admin.snapshot.model import ClusterSnapshot
from tests.tcp_proxy import TcpProxy


class HookedAdmin:
    """The collector's AdminClient, with a callback run just before one of its methods (to time a fault)."""

    def __init__(self, admin: Any, method: str, before: Callable[[], object]) -> None:
        self._admin, self._method, self._before = admin, method, before

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._admin, name)
        if name != self._method:
            return attr

        def hooked(*args: Any, **kwargs: Any) -> Any:
            self._before()
            return attr(*args, **kwargs)

        return hooked


class Scenario:
    def __init__(
        self, proxy_port: int, upstream_port: int, request_timeout: float, cycle_timeout: float, groups: list[str]
    ) -> None:
        self.proxy = TcpProxy("127.0.0.1", upstream_port, port=proxy_port).start()
        self.config = ClusterConfig(
            name="flaky",
            bootstrap_servers=self.proxy.address,
            request_timeout_s=request_timeout,
            cycle_timeout_s=cycle_timeout,
            # The faults are hooked into the admin API's calls (HookedAdmin): the admin source makes them.
            offsets_source="admin",
        )
        self.groups = set(groups)

    def summary(self, snapshot: ClusterSnapshot, elapsed: float) -> dict[str, Any]:
        return {
            "elapsed": elapsed,
            "reachable": snapshot.reachable,
            "errors": [[e.scope, e.name, e.message] for e in snapshot.errors],
            "lags": {g.group_id: g.total_lag for g in snapshot.groups if g.group_id in self.groups},
            "brokers": [b.port for b in snapshot.brokers],
            "complete": self.complete(snapshot),
        }

    def complete(self, snapshot: ClusterSnapshot) -> bool:
        return snapshot.reachable and not snapshot.errors and self.groups <= {g.group_id for g in snapshot.groups}

    def timed(self, collect: Callable[[], ClusterSnapshot]) -> dict[str, Any]:
        started = time.monotonic()
        snapshot = collect()
        return self.summary(snapshot, time.monotonic() - started)

    def recovery(self, collector: SnapshotCollector, cycles: int = 4) -> list[dict[str, Any]]:
        """Cycles after the fault, until a complete one (a reconnect may cost one)."""
        out = []
        for _ in range(cycles):
            out.append(self.timed(collector.collect))
            if out[-1]["complete"]:
                break
            time.sleep(0.5)
        return out

    # --- the scenarios -----------------------------------------------------------------------------

    def latency(self, one_way_s: float) -> dict[str, Any]:
        baseline = self.timed(lambda: collect_snapshot(self.config))
        self.proxy.latency_s = one_way_s
        slow = self.timed(lambda: collect_snapshot(self.config))
        return {"baseline": baseline, "slow": slow, "accepted": self.proxy.accepted}

    def stall(self, before: str) -> dict[str, Any]:
        collector = SnapshotCollector(self.config)
        first = self.timed(collector.collect)
        # Responses stop a few bytes into the next answer, for longer than any timeout.
        admin = collector._admin
        collector._admin = HookedAdmin(admin, before, lambda: self.proxy.stall(30, after_bytes=7))
        stalled = self.timed(collector.collect)
        in_effect = self.proxy.stalled
        collector._admin = admin
        self.proxy.reset()
        return {"first": first, "stalled": stalled, "in_effect": in_effect, "recovery": self.recovery(collector)}

    def stall_first_byte(self) -> dict[str, Any]:
        self.proxy.stall(30)
        return {"stalled": self.timed(lambda: collect_snapshot(self.config))}

    def drops(self) -> dict[str, Any]:
        collector = SnapshotCollector(self.config)
        first = self.timed(collector.collect)
        # Every connection is cut after a few hundred bytes: nothing but the smallest answers get through.
        self.proxy.drop_every_bytes = 300
        cut = self.timed(collector.collect)
        dropped = self.proxy.dropped
        self.proxy.reset()
        after_cut = self.recovery(collector)
        # All connections dropped in the middle of a cycle (librdkafka may retry; nothing may escape).
        admin = collector._admin
        collector._admin = HookedAdmin(admin, "list_offsets", self.proxy.drop_all)
        self.proxy.latency_s = 0.05
        mid = self.timed(collector.collect)
        collector._admin = admin
        self.proxy.reset()
        return {
            "first": first,
            "cut": cut,
            "dropped": dropped,
            "after_cut": after_cut,
            "mid": mid,
            "after_mid": self.recovery(collector),
        }


def main() -> None:
    name, raw = sys.argv[1], json.loads(sys.argv[2])
    scenario = Scenario(**raw.pop("setup"))
    try:
        result = getattr(scenario, name)(**raw)
    finally:
        scenario.proxy.stop()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
