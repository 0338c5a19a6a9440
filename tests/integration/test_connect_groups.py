"""A distributed Kafka Connect worker's group, read from the real 4.3.1 broker and compared with
the worker's own REST status: which worker runs the connector and which its tasks (issue 16 §4)."""

from __future__ import annotations

import pytest

from kafka_admin.snapshot.collect import SnapshotCollector
from tests.connect_support import connect_worker, create_file_source, get_json
from tests.waiting import wait_until

pytestmark = pytest.mark.broker


def test_workers_connectors_and_tasks_match_the_rest_status(kafka, broker, tmp_path):
    group = kafka.unique("connect")
    source = tmp_path / "in.txt"
    source.write_text("one\ntwo\n")
    collector = SnapshotCollector(broker.config())
    try:
        with connect_worker(broker, tmp_path, group) as worker:
            create_file_source(worker, "file-src", source, kafka.unique("file-out"))

            def running():
                try:
                    status = get_json(f"{worker.rest}/connectors/file-src/status")
                except OSError:  # 404 until the worker has started the connector
                    return None
                ok = status["connector"]["state"] == "RUNNING" and [t["state"] for t in status["tasks"]] == ["RUNNING"]
                return status if ok else None

            status = wait_until(running, 90, "connector and task RUNNING")

            def described():
                snap = collector.collect()
                g = snap.group(group)
                return snap if g and g.connect and any(w.tasks for w in g.connect.workers) else None

            snap = wait_until(described, 60, "the worker's tasks in the snapshot")
    finally:
        collector.close()
    g = snap.group(group)
    assert (g.type, g.protocol, g.state) == ("classic", "connect", "Stable")
    (w,) = g.connect.workers
    # the REST status names a worker by host:port, the group metadata by its REST url
    assert w.url.rstrip("/").removeprefix("http://") == status["connector"]["worker_id"]
    assert w.connectors == ("file-src",) and w.tasks == (("file-src", 0),)
    assert g.connect.leader == w.member_id and len(g.members) == 1
    assert not [e for e in snap.errors if e.scope in ("group", "groups")], snap.errors
