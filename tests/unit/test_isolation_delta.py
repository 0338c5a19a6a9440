"""The collector's hand-off as deltas (kafka_admin/isolation/delta.py): every rebuilt snapshot equals the
one a full send gives, shares the unchanged objects, and no delta is ever applied to the wrong base."""

from __future__ import annotations

import dataclasses
import os
import pickle
import signal
import time
from multiprocessing.reduction import ForkingPickler

import pytest

from kafka_admin.config import ClusterConfig
from kafka_admin.isolation import delta
from kafka_admin.isolation.delta import BaseMismatch, Part, SnapshotReceiver, SnapshotSender, apply, diff
from kafka_admin.isolation.handoff import register_dataclasses
from kafka_admin.isolation.remote import RemoteBroker
from kafka_admin.isolation.supervisor import WorkerFailed
from kafka_admin.snapshot import model
from tests.unit.snapshot_churn import Churn


@pytest.fixture(autouse=True, scope="module")
def _fast_pickles():
    register_dataclasses(model, delta)  # as the child does (sessions.BrokerSession)


def wire(message: object) -> object:
    """What the parent gets: the child's pickle (ForkingPickler, as Connection.send), unpickled."""
    return pickle.loads(bytes(ForkingPickler.dumps(message)))


def key(x: str) -> str:
    return x[0]


class TestDiff:
    @pytest.mark.parametrize(
        "old,new",
        [
            ("abc", "abc"),
            ("abc", "aXc"),  # keys are the first letters: b gone, X new
            ("", "abc"),
            ("abc", ""),
            ("ace", "abcde"),  # added between
            ("abcde", "bd"),  # removed at both ends and between
            ("abc", "cab"),  # reordered
            ("abcd", "dzca"),  # reordered, added, removed
        ],
    )
    def test_apply_gives_the_new_tuple(self, old, new):
        old_t, new_t = tuple(f"{c}0" for c in old), tuple(f"{c}1" if c in "bz" else f"{c}0" for c in new)
        part = diff(old_t, new_t, key)
        assert part is not None and apply(old_t, part, key) == new_t

    def test_only_what_changed_travels_and_the_rest_is_the_old_objects(self):
        old = tuple(f"{c}{c}" for c in "abcdefgh")  # distinct objects per run of the test
        new = (*(x if x[0] != "d" else "d!" for x in old if x[0] != "f"), "zz")
        part = diff(old, new, key)
        assert part.changed == ("d!",) and part.added == ("zz",) and part.added_at == (7,) and part.removed == ("f",)
        assert part.order is None
        out = apply(old, part, key)
        assert out == new and all(a is b for a, b in zip(out, new, strict=True))

    def test_duplicate_keys_are_not_diffed(self):
        assert diff(("a1", "a2"), ("a1",), key) is None
        assert diff(("a1",), ("a1", "a2"), key) is None

    def test_a_part_that_does_not_fit_the_base_is_refused(self):
        part = diff(("a0", "b0"), ("a0", "b1"), key)
        with pytest.raises(BaseMismatch):
            apply(("a0",), part, key)
        with pytest.raises(BaseMismatch):
            apply(("a0", "b0", "c0"), part, key)
        with pytest.raises(BaseMismatch):
            apply(("a0", "b0"), dataclasses.replace(part, count=3), key)


def handed_over(churn: Churn, cycles: int, **options: bool) -> list[tuple[model.ClusterSnapshot, object]]:
    """(the child's snapshot, the parent's rebuilt one) for each cycle, through the pickles."""
    sender, receiver = SnapshotSender(), SnapshotReceiver()
    out = []
    for _ in range(cycles):
        churn.advance()
        snapshot = churn.snapshot(**options)
        message = wire(sender.message(snapshot, receiver.held()))
        out.append((snapshot, receiver.take(message)))
    assert receiver.fulls == 1 and receiver.deltas == cycles - 1, "one full snapshot, then deltas"
    return out


class TestSnapshots:
    @pytest.mark.parametrize("reuse", [True, False], ids=["groups-handed-on", "groups-rebuilt"])
    def test_every_rebuilt_snapshot_equals_the_full_send(self, reuse):
        churn = Churn(groups=400, reuse=reuse, seed=7)
        sender, receiver = SnapshotSender(), SnapshotReceiver()
        previous = None
        for _ in range(25):
            churn.advance()
            snapshot = churn.snapshot()
            message = wire(sender.message(snapshot, receiver.held()))
            rebuilt = receiver.take(message)
            full = wire(snapshot)  # what a full send gives
            assert rebuilt == full == snapshot
            if previous is not None:
                before = {g.group_id: g for g in previous.groups}
                differ = [g for g in snapshot.groups if before.get(g.group_id) != g]
                assert not message.full and message.groups.items == len(differ) < len(snapshot.groups) // 3
                for g in rebuilt.groups:  # an unchanged group is the parent's own object of last cycle
                    was = before.get(g.group_id)
                    if was is not None and was == g:
                        assert was is g
            previous = rebuilt
        assert receiver.deltas == 24

    def test_a_reordered_snapshot_is_rebuilt_in_its_order(self):
        pairs = handed_over(Churn(seed=3), 8, shuffle=True)
        for snapshot, rebuilt in pairs:
            assert rebuilt == snapshot and [g.group_id for g in rebuilt.groups] == [g.group_id for g in snapshot.groups]

    def test_unreachable_cycles_between_reachable_ones(self):
        churn, sender, receiver = Churn(seed=4), SnapshotSender(), SnapshotReceiver()
        kinds = []
        for reachable in (True, True, False, False, True, True):
            churn.advance()
            snapshot = churn.snapshot(reachable=reachable)
            message = wire(sender.message(snapshot, receiver.held()))
            assert receiver.take(message) == snapshot
            kinds.append("full" if message.full else "delta")
        assert kinds == ["full", "delta", "full", "full", "full", "delta"]

    def test_duplicate_group_ids_go_whole(self):
        churn, sender, receiver = Churn(seed=5), SnapshotSender(), SnapshotReceiver()
        first = churn.snapshot()
        receiver.take(wire(sender.message(first, receiver.held())))
        twice = dataclasses.replace(first, groups=first.groups + first.groups[:1])
        message = wire(sender.message(twice, receiver.held()))
        assert message.full and receiver.take(message) == twice


class TestGuards:
    def setup_method(self):
        self.churn = Churn(seed=6)
        self.sender, self.receiver = SnapshotSender(), SnapshotReceiver()
        self.receiver.take(wire(self.sender.message(self.churn.snapshot(), None)))

    def next_snapshot(self) -> model.ClusterSnapshot:
        self.churn.advance()
        return self.churn.snapshot()

    def test_a_new_child_sends_whole_first(self):
        restarted = SnapshotSender()  # the child died: its successor knows nothing of the parent's base
        snapshot = self.next_snapshot()
        message = wire(restarted.message(snapshot, self.receiver.held()))
        assert message.full and self.receiver.take(message) == snapshot
        snapshot = self.next_snapshot()  # and deltas against its own from then on
        message = wire(restarted.message(snapshot, self.receiver.held()))
        assert not message.full and self.receiver.take(message) == snapshot

    def test_a_message_the_parent_never_got_makes_the_next_one_whole(self):
        self.sender.message(self.next_snapshot(), self.receiver.held())  # lost: a pickling failure, a kill
        snapshot = self.next_snapshot()
        message = wire(self.sender.message(snapshot, self.receiver.held()))
        assert message.full and self.receiver.take(message) == snapshot

    def test_a_parent_in_doubt_gets_a_whole_snapshot(self):
        self.receiver.forget()
        snapshot = self.next_snapshot()
        message = wire(self.sender.message(snapshot, self.receiver.held()))
        assert message.full and self.receiver.take(message) == snapshot

    def test_a_delta_for_another_base_is_refused_and_the_base_forgotten(self):
        held = self.receiver.held()
        message = wire(self.sender.message(self.next_snapshot(), held))
        other = SnapshotReceiver()
        with pytest.raises(BaseMismatch):
            other.take(message)
        self.receiver.take(message)
        with pytest.raises(BaseMismatch):
            self.receiver.take(message)  # applied twice: its base is gone
        assert self.receiver.held() is None
        resent = wire(self.sender.last())  # what RemoteBroker asks for then: the same snapshot, whole
        assert resent.full and self.receiver.take(resent) == self.churn.snapshot()
        snapshot = self.next_snapshot()
        message = wire(self.sender.message(snapshot, self.receiver.held()))
        assert not message.full and self.receiver.take(message) == snapshot

    def test_a_delta_whose_counts_do_not_fit_is_refused(self):
        message = self.sender.message(self.next_snapshot(), self.receiver.held())
        bad = dataclasses.replace(message, groups=dataclasses.replace(message.groups, count=message.groups.count + 1))
        with pytest.raises(BaseMismatch):
            self.receiver.take(wire(bad))
        assert self.receiver.held() is None

    def test_parts_are_empty_when_nothing_changed(self):
        snapshot = self.churn.snapshot()
        message = wire(self.sender.message(snapshot, self.receiver.held()))
        assert message.groups == Part(count=len(snapshot.groups)) and message.topics == Part(count=len(snapshot.topics))
        assert self.receiver.take(message) == snapshot


SESSION = "tests.unit.isolation_sessions:ChurnSession"


@pytest.fixture
def remote():
    broker = RemoteBroker(ClusterConfig(name="churn", cycle_timeout_s=10, request_timeout_s=5), SESSION)
    yield broker
    broker.close()


def collect(remote: RemoteBroker, within: float = 30) -> model.ClusterSnapshot:
    """remote.collect(), waiting out a restart's back-off."""
    deadline = time.monotonic() + within
    while True:
        try:
            return remote.collect()
        except WorkerFailed:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_a_real_child_hands_over_deltas_and_a_restarted_one_starts_whole(remote):
    """RemoteBroker against a spawned child (synthetic collector): equal to the child's own full copy
    each cycle, deltas after the first, a full snapshot again from the child that replaces a killed one."""
    for _ in range(4):
        rebuilt = collect(remote)
        assert rebuilt == remote.supervisor.call("last_snapshot", answer_within_s=30).snapshot
    assert (remote.receiver.fulls, remote.receiver.deltas) == (1, 3)
    os.kill(remote.supervisor.pid, signal.SIGKILL)
    rebuilt = collect(remote)
    assert rebuilt == remote.supervisor.call("last_snapshot", answer_within_s=30).snapshot
    assert remote.supervisor.health.total == 1 and remote.receiver.fulls == 2
    assert collect(remote) == remote.supervisor.call("last_snapshot", answer_within_s=30).snapshot
    assert remote.receiver.deltas == 4
