"""`manage.py kafka_snapshot`: the JSON contract (docs/snapshot.md), the tables, the exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime

import pytest

from tests.integration.test_share_groups import tool_offsets
from tests.kafka_support import REPO, free_port
from tests.share_support import set_group_configs, share_worker
from tests.waiting import wait_until

pytestmark = pytest.mark.broker

INT_OR_NONE = (int, type(None))
STR_OR_NONE = (str, type(None))


def run_snapshot(bootstrap: str, *args: str, timeout_s: str = "5") -> subprocess.CompletedProcess:
    env = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=bootstrap, KAFKA_REQUEST_TIMEOUT=timeout_s, KAFKA_CYCLE_TIMEOUT="30")
    return subprocess.run(
        [sys.executable, "manage.py", "kafka_snapshot", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def check_types(obj: dict, spec: dict) -> None:
    assert set(spec) <= set(obj), f"missing keys {set(spec) - set(obj)}"
    for key, types in spec.items():
        assert isinstance(obj[key], types), f"{key}={obj[key]!r} is not {types}"


class TestJsonContract:
    def test_json_shape_and_values(self, kafka, broker):
        topic = kafka.create_topic(partitions=2)
        kafka.produce(topic, 3, partition=1)
        group = kafka.unique("cli")
        kafka.commit(group, [(topic, 1, 1)])
        result = run_snapshot(broker.bootstrap, "--json")
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        check_types(
            data,
            {
                "cluster": str,
                "cluster_id": STR_OR_NONE,
                "collected_at": str,
                "duration_ms": (int, float),
                "requests": int,
                "controller_id": INT_OR_NONE,
                "brokers": list,
                "topics": list,
                "groups": list,
                "errors": list,
            },
        )
        datetime.fromisoformat(data["collected_at"])
        assert data["requests"] > 0
        for b in data["brokers"]:
            check_types(b, {"id": int, "host": str, "port": int, "rack": STR_OR_NONE})
        for t in data["topics"]:
            check_types(t, {"name": str, "internal": bool, "partitions": list})
            for p in t["partitions"]:
                check_types(
                    p,
                    {
                        "partition": int,
                        "leader": INT_OR_NONE,
                        "replicas": list,
                        "isr": list,
                        "start_offset": int,
                        "end_offset": int,
                    },
                )
        for g in data["groups"]:
            check_types(
                g,
                {
                    "group_id": str,
                    "state": str,
                    "type": STR_OR_NONE,
                    "coordinator": INT_OR_NONE,
                    "members": list,
                    "offsets": list,
                    "total_lag": int,
                },
            )
            for m in g["members"]:
                check_types(m, {"member_id": str, "client_id": str, "host": str, "assignments": list})
            for o in g["offsets"]:
                check_types(
                    o, {"topic": str, "partition": int, "committed": int, "end_offset": INT_OR_NONE, "lag": INT_OR_NONE}
                )
        [ours] = [g for g in data["groups"] if g["group_id"] == group]
        assert ours["offsets"] == [{"topic": topic, "partition": 1, "committed": 1, "end_offset": 3, "lag": 2}]
        assert ours["total_lag"] == 2 and ours["state"] == "Empty"
        [t] = [t for t in data["topics"] if t["name"] == topic]
        assert [p["end_offset"] for p in t["partitions"]] == [0, 3]

    def test_readable_tables(self, kafka, broker):
        topic = kafka.create_topic(partitions=1)
        kafka.produce(topic, 4, partition=0)
        group = kafka.unique("table")
        kafka.commit(group, [(topic, 0, 1)])
        result = run_snapshot(broker.bootstrap)
        assert result.returncode == 0, result.stderr
        assert "CONSUMER GROUPS" in result.stdout
        assert "GROUP" in result.stdout and " TYPE " in result.stdout
        [row] = [ln.split() for ln in result.stdout.splitlines() if ln.startswith(group)]
        # an offsets-only group is a classic group to Kafka 4 (ListGroups v5)
        assert row[:8] == [group, "classic", "Empty", topic, "0", "1", "4", "3"]

    def test_share_groups_in_the_tables(self, kafka, broker):
        topic = kafka.create_topic(partitions=1)
        group = kafka.unique("table-share")
        set_group_configs(broker.bootstrap, group, share_auto_offset_reset="earliest")
        kafka.produce(topic, 10, partition=0)
        with share_worker(broker.bootstrap, group, topic, 4):

            def share_row():
                result = run_snapshot(broker.bootstrap)
                assert result.returncode == 0, result.stderr
                rows = [ln.split() for ln in result.stdout.splitlines() if ln.startswith(group)]
                return rows if rows and rows[0][5] != "-" else None  # the start offset is known

            [row] = wait_until(share_row, 60, "a share-partition start offset in the tables")
            theirs = tool_offsets(broker, group)
        assert row[:5] == [group, "share", "Stable", topic, "0"]
        assert theirs == {(topic, 0): (int(row[5]), int(row[7]))} and row[6] == "10"  # start, lag; end

    def test_unreachable_exits_2_with_reason(self):
        result = run_snapshot(f"127.0.0.1:{free_port()}", "--json", timeout_s="2")
        assert result.returncode == 2
        assert "unreachable" in result.stderr
        assert json.loads(result.stdout)["reachable"] is False
        assert "Traceback" not in result.stderr
