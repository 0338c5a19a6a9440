"""Streams groups from the real 4.3.1 broker with a real Kafka Streams application
(`group.protocol=streams`, tests/streams_app), compared with Kafka's own
`kafka-streams-groups --describe` (issue 16 §3)."""

from __future__ import annotations

import pytest

from kafka_admin.snapshot.collect import SnapshotCollector
from tests.streams_support import streams_app
from tests.waiting import wait_until

pytestmark = pytest.mark.broker


def tool_rows(broker, group: str, *args: str) -> list[list[str]]:
    out = broker.tool("kafka-streams-groups", "--describe", "--group", group, *args)
    return [line.split() for line in out.splitlines() if line.split()[:1] == [group]]


class TestStreamsGroupsMatchKafkasTools:
    def test_topology_tasks_and_lag(self, kafka, broker):
        source, sink = kafka.create_topic(partitions=2), kafka.create_topic(partitions=2)
        app = kafka.unique("streams-app")
        kafka.produce(source, 400)  # 200 a partition; the app copies 10 a second
        collector = SnapshotCollector(broker.config())
        try:
            with streams_app(broker.bootstrap, app, source, sink, pause_ms=100):
                running = wait_until(
                    lambda: (s := collector.collect()).group(app) and s.group(app).members and s, 60, "members"
                )
                members = tool_rows(broker, app, "--members")

                # The app moves on while the tools run: our read must lie between two of the tool's.
                def bracketed():
                    before = tool_offsets(broker, app)
                    snap = collector.collect()
                    after = tool_offsets(broker, app)
                    rows = {(o.topic, o.partition): (o.committed, o.end_offset, o.lag) for o in snap.group(app).offsets}
                    ok = (
                        rows
                        and set(rows) == set(before) == set(after)
                        and all(
                            before[tp][0] <= c <= after[tp][0] and e == before[tp][1] == after[tp][1] and lag == e - c
                            for tp, (c, e, lag) in rows.items()
                        )
                    )
                    return (snap, rows) if ok else None

                snap, rows = wait_until(bracketed, 90, "our lag between two of kafka-streams-groups' reads")
        finally:
            collector.close()
        g = running.group(app)
        assert (g.type, g.protocol) == ("streams", "streams")
        (sub,) = g.streams.subtopologies
        assert sub.source_topics == (source,)
        # MEMBER, PROCESS, CLIENT-ID, then the tasks as the tool prints them: "ACTIVE: 0:[0,1];"
        ours = {(m.member_id, m.process_id, m.client_id, tasks_text(m.active)) for m in g.streams.members}
        theirs = {(r[1], r[2], r[3], " ".join(r[4:]).removeprefix("ACTIVE:").strip().rstrip(";")) for r in members}
        assert ours == theirs
        assert {(a.topic, a.partition) for m in g.members for a in m.assignments} == {(source, 0), (source, 1)}
        g = snap.group(app)
        lags = [lag for _, _, lag in rows.values()]
        assert g.state == "Stable" and min(lags) > 0 and g.total_lag == sum(lags)
        assert not [e for e in snap.errors if e.scope in ("group", "groups")], snap.errors


def tasks_text(tasks) -> str:
    return ";".join(f"{t.subtopology_id}:[{','.join(map(str, t.partitions))}]" for t in tasks)


def tool_offsets(broker, group: str) -> dict[tuple[str, int], tuple[int, int]]:
    """(topic, partition) -> (CURRENT-OFFSET, LOG-END-OFFSET) of `--offsets --verbose`, committed ones only."""
    rows = tool_rows(broker, group, "--offsets", "--verbose")
    return {(r[1], int(r[2])): (int(r[3]), int(r[5])) for r in rows if r[3] != "-"}
