"""Share groups without a broker: their status rules, and a Group built from the real broker's bytes.

The answers decoded here are the fixtures of test_protocol.py (captured from Apache Kafka 4.3.1);
the status rules are pure functions over windows of samples.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace

import pytest
from django.urls import reverse

from dashboard.clusters import default_cluster
from dashboard.state import store
from kafka_admin.figures.share_status import ShareSample, evaluate_share_partition
from kafka_admin.figures.status import LagStatus
from kafka_admin.figures.tracker import FigureTracker
from kafka_admin.snapshot.groups.base import ListedGroup
from kafka_admin.snapshot.groups.share_reads import build_share_group
from kafka_admin.snapshot.model import Group, Member, SharePartition, TopicPartitionRef, snapshot_from_dict
from tests.factories import later, snapshot
from tests.unit.test_protocol import SHARE, TOPIC, decoded


def window(*rows: tuple[float, int | None, int | None, int | None]) -> deque[ShareSample]:
    return deque(ShareSample(*r) for r in rows)


def judge(w, owner: bool = True, limit: int | None = 5):
    return evaluate_share_partition(w, min_samples=3, has_owner=owner, delivery_limit=limit)


class TestShareStatus:
    def test_no_state_yet_is_nodata(self):
        assert judge(window((0, None, 10, None))).status == LagStatus.NODATA

    def test_nothing_waiting_is_ok_at_once(self):
        assert judge(window((0, 10, 10, 0))).status == LagStatus.OK

    def test_waiting_without_a_member_is_stop(self):
        status = judge(window((0, 3, 10, 7)), owner=False)
        assert status.status == LagStatus.STOP and "no member" in status.reason

    def test_a_start_offset_that_never_moves_is_stall_naming_the_limit(self):
        status = judge(window((0, 3, 10, 7), (10, 3, 12, 9), (20, 3, 14, 11)))
        assert status.status == LagStatus.STALL
        assert "stuck at 3 for 20 s" in status.reason and "delivery count limit 5" in status.reason

    def test_moving_but_falling_behind_is_warn(self):
        status = judge(window((0, 3, 10, 7), (10, 6, 20, 14), (20, 9, 40, 31)))
        assert status.status == LagStatus.WARN and "from 7 to 31" in status.reason

    def test_moving_and_keeping_up_is_ok(self):
        assert judge(window((0, 3, 10, 7), (10, 8, 15, 7), (20, 12, 18, 6))).status == LagStatus.OK

    def test_the_window_filling_is_nodata(self):
        assert judge(window((0, 3, 10, 7), (10, 3, 12, 9))).status == LagStatus.NODATA

    def test_without_kafkas_lag_end_minus_start_is_used(self):
        status = judge(window((0, 3, 10, None), (10, 3, 10, None), (20, 3, 10, None)))
        assert status.status == LagStatus.STALL and "7 records" in status.reason


@dataclass
class Cycle:
    errors: list[tuple[str, str, str]] = field(default_factory=list)

    def error(self, scope: str, name: str, exc) -> None:
        self.errors.append((scope, name, str(exc)))


class TestBuiltFromTheBrokersBytes:
    def build(self, desc, offsets) -> tuple[Group, Cycle]:
        cycle = Cycle()
        listed = ListedGroup(SHARE, None, "Stable", "share", "share")
        ends = {(TOPIC, 0): 15, (TOPIC, 1): 15}
        return build_share_group(cycle, listed, desc, offsets, 1, 5, ends), cycle

    def test_members_and_share_partitions(self):
        desc = decoded("share_group_describe_v1")["groups"][0]
        offsets = decoded("describe_share_group_offsets_v1")["groups"][0]
        group, cycle = self.build(desc, offsets)
        assert cycle.errors == []
        assert (group.state, group.assignor, group.coordinator, group.delivery_count_limit) == (
            "Stable",
            "simple",
            1,
            5,
        )
        (member,) = group.members
        assert member.client_id == "share-worker-fixture-share"
        assert member.assignments == (TopicPartitionRef(TOPIC, 0), TopicPartitionRef(TOPIC, 1))
        # as kafka-share-groups --describe --offsets printed: partition 0 "-" "-", partition 1 0 0
        assert group.share_partitions == (SharePartition(TOPIC, 0, None, 15, None), SharePartition(TOPIC, 1, 0, 15, 0))
        assert group.total_lag == 0 and group.topics == (TOPIC,)

    def test_a_describe_error_is_recorded_and_the_rest_stands(self):
        missing = decoded("share_group_describe_v1")["groups"][1]
        offsets = decoded("describe_share_group_offsets_v1")["groups"][0]
        group, cycle = self.build(missing, offsets)
        assert group.members == () and len(group.share_partitions) == 2
        assert cycle.errors == [
            ("group", SHARE, "ShareGroupDescribe: GROUP_ID_NOT_FOUND (Group no-such-group not found.)")
        ]

    def test_the_json_contract_round_trips(self):
        desc = decoded("share_group_describe_v1")["groups"][0]
        group, _ = self.build(desc, decoded("describe_share_group_offsets_v1")["groups"][0])
        snap = replace(snapshot(groups={}), groups=(group,))
        assert snapshot_from_dict(snap.to_dict()).groups == (group,)
        assert snap.to_dict()["groups"][0]["share_partitions"][1] == {
            "topic": TOPIC,
            "partition": 1,
            "start_offset": 0,
            "end_offset": 15,
            "lag": 0,
        }


@pytest.mark.django_db
@pytest.mark.usefixtures("clean_cache")
class TestTheSharePage:
    def test_status_and_page(self, viewer):
        name = default_cluster().name
        tracker = FigureTracker(status_samples=4, status_min_samples=3)
        members = (
            Member("m1", "worker-a", "/10.0.0.1", (TopicPartitionRef("jobs", 0),)),
            Member("m2", "worker-<b>", "/10.0.0.2", (TopicPartitionRef("jobs", 0),)),
        )
        for step in range(3):
            snap = snapshot(at=later(10 * step), cluster=name, ends={"jobs": [20 + step, 5]}, groups={})
            group = Group(
                "jobs-share",
                "Stable",
                "share",
                coordinator=1,
                members=members,
                protocol="share",
                share_partitions=(
                    SharePartition("jobs", 0, 4, 20 + step, 16 + step),
                    SharePartition("jobs", 1, 5, 5, 0),
                ),
                delivery_count_limit=5,
            )
            snap = replace(snap, groups=(group,))
            figures = tracker.update(snap)
        store.save(snap, figures)
        gf = figures.groups["jobs-share"]
        assert gf.status.status == LagStatus.STALL  # the worst partition's
        assert gf.partition_statuses[("jobs", 0)].status == LagStatus.STALL  # start offset stuck at 4
        assert gf.partition_statuses[("jobs", 1)].status == LagStatus.OK  # nothing waiting
        assert gf.lag_history[-1][1] == 18  # the group's lag history is the share lag
        html = viewer.get(reverse("group", args=[name, "jobs-share"])).content.decode()
        assert 'data-testid="share-partitions"' in html and 'data-testid="delivery-limit">5<' in html
        assert "worker-a" in html and "worker-&lt;b&gt;" in html and "worker-<b>" not in html
        assert "Reset offsets" not in html


class TestStreamsGroupFromTheBrokersBytes:
    def test_members_run_tasks_over_the_input_partitions(self):
        from kafka_admin.snapshot.groups.streams_reads import build_streams_group

        (desc,) = decoded("streams_group_describe_v0")["groups"]
        cycle = Cycle()
        listed = ListedGroup("st-app", None, "Stable", "streams", "streams")
        group = build_streams_group(cycle, listed, desc, None, 1, {})
        assert cycle.errors == [("group", "st-app", "no committed offsets returned")]
        (member,) = group.members
        assert member.assignments == (TopicPartitionRef("st-in", 0), TopicPartitionRef("st-in", 1))
        (sm,) = group.streams.members
        assert [(t.subtopology_id, t.partitions) for t in sm.active] == [("0", (0, 1))]
        assert group.streams.subtopologies[0].source_topics == ("st-in",)
        snap = replace(snapshot(groups={}), groups=(group,))
        assert snapshot_from_dict(snap.to_dict()).groups == (group,)


@pytest.mark.django_db
@pytest.mark.usefixtures("clean_cache")
class TestTheStreamsPage:
    def test_topology_and_tasks_are_shown_escaped(self, viewer):
        from kafka_admin.snapshot.groups.streams_reads import build_streams_group

        (desc,) = decoded("streams_group_describe_v0")["groups"]
        desc = {**desc, "members": [{**desc["members"][0], "client_id": "app-<i>x</i>"}]}
        group = build_streams_group(
            Cycle(), ListedGroup("st-app", None, "Stable", "streams", "streams"), desc, None, 1, {}
        )
        name = default_cluster().name
        snap = replace(snapshot(cluster=name, ends={"st-in": [100, 100]}, groups={}), groups=(group,))
        store.save(snap, FigureTracker().update(snap))
        html = viewer.get(reverse("group", args=[name, "st-app"])).content.decode()
        assert 'data-testid="streams-topology"' in html and 'data-testid="streams-tasks"' in html
        assert '<span class="chip">0:0,1</span>' in html and '<span class="chip">st-in</span>' in html
        assert "app-&lt;i&gt;x&lt;/i&gt;" in html and "<i>x</i>" not in html


class TestConnectGroupFromTheBrokersBytes:
    """DescribeGroups v5 of a distributed Connect 4.3.1 worker group (gtx-connect) running a
    FileStreamSource connector `gtx-file` with one task; its REST status said: connector and task 0
    RUNNING on worker 127.0.0.1:47281."""

    def test_the_worker_runs_the_connector_and_its_task(self):
        from kafka_admin.snapshot.groups.connect import build_connect_group

        (desc,) = decoded("describe_groups_connect_v5")["groups"]
        cycle = Cycle()
        group = build_connect_group(cycle, ListedGroup("gtx-connect", None, "Stable", "classic", "connect"), desc, 1)
        assert cycle.errors == []
        (worker,) = group.connect.workers
        assert (worker.url, worker.connectors, worker.tasks) == (
            "http://127.0.0.1:47281/",
            ("gtx-file",),
            (("gtx-file", 0),),
        )
        assert group.connect.leader == worker.member_id and group.connect.protocol == "sessioned"
        assert group.connect.config_offset == 4 and len(group.members) == 1
        snap = replace(snapshot(groups={}), groups=(group,))
        assert snapshot_from_dict(snap.to_dict()).groups == (group,)

    def test_connect_groups_are_claimed_by_their_protocol_type(self):
        from kafka_admin.snapshot.groups.connect import CONNECT
        from kafka_admin.snapshot.groups.registry import GROUP_TYPES

        assert GROUP_TYPES.group_type("classic", "connect") is CONNECT
        assert GROUP_TYPES.group_type("classic", "consumer").name == "classic"
        assert GROUP_TYPES.group_type("classic", "consumer") is not CONNECT

    @pytest.mark.django_db
    @pytest.mark.usefixtures("clean_cache")
    def test_the_page_lists_workers_connectors_and_tasks(self, viewer):
        from kafka_admin.snapshot.groups.connect import build_connect_group

        (desc,) = decoded("describe_groups_connect_v5")["groups"]
        group = build_connect_group(Cycle(), ListedGroup("gtx-connect", None, "Stable", "classic", "connect"), desc, 1)
        name = default_cluster().name
        snap = replace(snapshot(cluster=name, groups={}), groups=(group,))
        store.save(snap, FigureTracker().update(snap))
        html = viewer.get(reverse("group", args=[name, "gtx-connect"])).content.decode()
        assert 'data-testid="connect-workers"' in html
        assert '<span class="chip">gtx-file</span>' in html and '<span class="chip">gtx-file-0</span>' in html
