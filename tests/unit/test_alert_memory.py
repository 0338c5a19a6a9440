"""The poller's alert states in memory (dashboard/alerts/states.py) never go stale.

Each test evaluates with one AlertMemory kept across cycles, as the poller does, and holds its events
and state rows equal to an evaluation that reads every state from the database (memory=None), and
where it says so to a plain restatement of the rules' semantics: after rules are edited, added or
deleted, after another process changed the states, while quiet groups cross a threshold that moves
with the clock, and over synthetic multi-cycle histories whose unchanged groups come as the same
objects (as the collector hands them on).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from dashboard.alerts import engine as alerts
from dashboard.alerts.states import AlertMemory
from dashboard.models import AlertEvent, AlertRule, AlertState
from kafka_admin.figures.results import EMPTY, ClusterFigures
from kafka_admin.figures.tracker import FigureTracker
from kafka_admin.snapshot.model import ClusterSnapshot
from tests.factories import T0, snapshot
from tests.unit.snapshot_churn import Churn

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from synthetic import SyntheticCluster

pytestmark = pytest.mark.django_db

Cycle = tuple[datetime, ClusterSnapshot | None, ClusterFigures, bool]  # now, snapshot, figures, reachable


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def lagging(lag: int) -> ClusterSnapshot:
    return snapshot(ends={"orders": [100]}, groups={"payments-svc": {("orders", 0): 100 - lag}, "other": {}})


def rule(**kw) -> AlertRule:
    defaults = dict(name="lag", pattern="payments-*", condition="lag_gt", threshold=50, for_seconds=60)
    defaults.update(kw)
    return AlertRule.objects.create(**defaults)


def rows() -> list[tuple]:
    return sorted(
        AlertState.objects.values_list("rule__name", "cluster", "subject", "pending_since", "firing_since", "value")
    )


def said(events: Iterable[AlertEvent]) -> list[tuple]:
    return [(e.rule.name, e.subject, e.kind, e.value) for e in events]


def replay(history: list[Cycle], cluster: str, memory: AlertMemory | None) -> list[tuple[list, list]]:
    """Each cycle's events and the state rows after it; starts and ends with no states or events."""
    out = []
    for now, snap, figures, reachable in history:
        events = alerts.evaluate(cluster, snap, figures, reachable, now, memory=memory)
        out.append((said(events), rows()))
    AlertState.objects.all().delete()
    AlertEvent.objects.all().delete()
    return out


def reference(history: list[Cycle], cluster: str) -> list[tuple[list, list]]:
    """The rules' semantics restated on plain dicts from alerts.readings: pending when breached,
    firing once it held for_seconds, resolved (an event only if it fired) when it stops holding or
    its subject is gone; data rules are not judged on unreachable cycles."""
    rules = list(AlertRule.objects.filter(enabled=True).order_by("pk"))
    states: dict[tuple[str, str], list] = {}  # (rule, subject) -> [pending_since, firing_since, value]
    out = []
    for now, snap, figures, reachable in history:
        events: list[tuple] = []
        for r in rules:
            if not reachable and r.condition != "unreachable":
                continue
            current = {x.subject: x for x in alerts.readings(r, cluster, snap, figures, reachable)}
            gone = sorted(s for name, s in states if name == r.name and s not in current)
            for subject, reading in [*current.items(), *((s, None) for s in gone)]:
                key = (r.name, subject)
                state = states.get(key)
                value = reading.value if reading is not None else None
                if reading is None or not reading.breached:
                    if state is not None:
                        del states[key]
                        if state[1] is not None:
                            events.append((r.name, subject, "resolved", value))
                    continue
                state = states.setdefault(key, [now, None, None])
                state[2] = value
                if state[1] is None and now - state[0] >= timedelta(seconds=r.for_seconds):
                    state[1] = now
                    events.append((r.name, subject, "firing", value))
        out.append((events, sorted((name, cluster, s, *v) for (name, s), v in states.items())))
    return out


def same_as_from_scratch(history: list[Cycle], cluster: str = "local") -> list[tuple[list, list]]:
    kept = replay(history, cluster, AlertMemory())
    assert kept == replay(history, cluster, None)
    assert kept == reference(history, cluster)
    return kept


def figured(snapshots: Iterable[ClusterSnapshot]) -> list[Cycle]:
    """The snapshots through one FigureTracker (with its quiet-group reuse), as the poller runs it."""
    tracker = FigureTracker()
    history: list[Cycle] = []
    for s in snapshots:
        figures = tracker.update(s)
        history.append((s.collected_at, s if s.reachable else None, figures, s.reachable))
    return history


def handed_on(snapshots: Iterable[ClusterSnapshot]) -> Iterable[ClusterSnapshot]:
    """Each snapshot with its unchanged groups as last cycle's objects (the collector's describe cache)."""
    last: dict[str, object] = {}
    for s in snapshots:
        groups = tuple(g if last.get(g.group_id) != g else last[g.group_id] for g in s.groups)
        last = {g.group_id: g for g in groups}
        yield dataclasses.replace(s, groups=groups)


class TestRulesChangeBetweenCycles:
    def test_a_raised_threshold_resolves_though_the_group_is_the_same_object(self):
        r = rule(for_seconds=0)
        s = lagging(80)
        memory = AlertMemory()
        [fired] = alerts.evaluate("local", s, EMPTY, True, at(0), memory=memory)
        AlertRule.objects.filter(pk=r.pk).update(threshold=90)  # as another process would: no save()
        [resolved] = alerts.evaluate("local", s, EMPTY, True, at(5), memory=memory)
        assert said([fired, resolved]) == [
            ("lag", "payments-svc", "firing", 80.0),
            ("lag", "payments-svc", "resolved", 80.0),
        ]
        assert not AlertState.objects.exists()

    def test_a_shorter_duration_fires_a_pending_state(self):
        r = rule(for_seconds=600)
        s = lagging(80)
        memory = AlertMemory()
        assert alerts.evaluate("local", s, EMPTY, True, at(0), memory=memory) == []
        assert alerts.evaluate("local", s, EMPTY, True, at(30), memory=memory) == []
        r.for_seconds = 60
        r.save()
        [fired] = alerts.evaluate("local", s, EMPTY, True, at(61), memory=memory)
        assert fired.kind == "firing" and AlertState.objects.get().pending_since == at(0)

    def test_a_narrower_pattern_resolves_the_groups_it_no_longer_matches(self):
        r = rule(for_seconds=0, pattern="*")
        s = lagging(80)
        memory = AlertMemory()
        [_fired] = alerts.evaluate("local", s, EMPTY, True, at(0), memory=memory)
        r.pattern = "/^other$/"
        r.save()
        [resolved] = alerts.evaluate("local", s, EMPTY, True, at(5), memory=memory)
        assert (resolved.kind, resolved.subject, resolved.value) == ("resolved", "payments-svc", None)

    def test_a_rule_added_deleted_and_added_again(self):
        s = lagging(80)
        memory = AlertMemory()
        assert alerts.evaluate("local", s, EMPTY, True, at(0), memory=memory) == []
        first = rule(for_seconds=0)
        [_fired] = alerts.evaluate("local", s, EMPTY, True, at(5), memory=memory)
        first.delete()  # its states and events go with it (cascade)
        assert alerts.evaluate("local", s, EMPTY, True, at(10), memory=memory) == []
        rule(for_seconds=0)  # the same name and pattern, a new rule
        [again] = alerts.evaluate("local", s, EMPTY, True, at(15), memory=memory)
        assert again.kind == "firing" and AlertState.objects.get().pending_since == at(15)

    def test_a_rule_disabled_and_enabled_again(self):
        r = rule(for_seconds=0)
        memory = AlertMemory()
        alerts.evaluate("local", lagging(80), EMPTY, True, at(0), memory=memory)
        AlertRule.objects.filter(pk=r.pk).update(enabled=False)
        assert alerts.evaluate("local", lagging(10), EMPTY, True, at(5), memory=memory) == []
        AlertRule.objects.filter(pk=r.pk).update(enabled=True)
        [resolved] = alerts.evaluate("local", lagging(10), EMPTY, True, at(10), memory=memory)
        assert resolved.kind == "resolved"


class TestOtherSubjects:
    def test_a_dlq_topic_deleted_resolves_while_another_appears(self):
        rule(name="dlq", pattern="*", condition="dlq_waiting_gt", threshold=1, for_seconds=0)
        rule(name="down", pattern="*", condition="unreachable", for_seconds=0)
        both = snapshot(ends={"orders": [100], "orders-dlq": [5], "payments-dlq": [7]}, groups={})
        one = snapshot(ends={"orders": [100], "orders-dlq": [5], "refunds-dlq": [0]}, groups={})  # one new
        history = [(at(0), both, EMPTY, True), (at(5), None, EMPTY, False), (at(10), one, EMPTY, True)]
        kept = same_as_from_scratch(history)
        assert [events for events, _ in kept] == [
            [("dlq", "orders-dlq", "firing", 5.0), ("dlq", "payments-dlq", "firing", 7.0)],
            [("down", "local", "firing", 1.0)],
            [("dlq", "payments-dlq", "resolved", None), ("down", "local", "resolved", 0.0)],
        ]


class TestAnotherProcessChangedTheStates:
    """Another poller (one that held the cluster's lease meanwhile) evaluates with its own memory."""

    def test_it_fired_the_alert_so_this_one_does_not_fire_it_again(self):
        rule()
        s = lagging(80)
        mine, theirs = AlertMemory(), AlertMemory()
        assert alerts.evaluate("local", s, EMPTY, True, at(0), memory=mine) == []
        [_fired] = alerts.evaluate("local", s, EMPTY, True, at(61), memory=theirs)
        assert alerts.evaluate("local", s, EMPTY, True, at(70), memory=mine) == []
        assert AlertEvent.objects.filter(kind="firing").count() == 1
        assert AlertState.objects.get().firing_since == at(61)

    def test_it_resolved_the_alert_so_this_one_starts_pending_again(self):
        rule()
        s = lagging(80)
        mine, theirs = AlertMemory(), AlertMemory()
        alerts.evaluate("local", s, EMPTY, True, at(0), memory=mine)
        alerts.evaluate("local", lagging(10), EMPTY, True, at(30), memory=theirs)
        # The same group object again: only the changed rows tell that the pending state is gone.
        assert alerts.evaluate("local", s, EMPTY, True, at(61), memory=mine) == []
        assert AlertState.objects.get().pending_since == at(61)
        [fired] = alerts.evaluate("local", s, EMPTY, True, at(121), memory=mine)
        assert fired.kind == "firing"

    def test_it_wrote_another_value_so_this_one_writes_its_own(self):
        rule()
        s = lagging(80)
        mine, theirs = AlertMemory(), AlertMemory()
        alerts.evaluate("local", s, EMPTY, True, at(0), memory=mine)
        alerts.evaluate("local", lagging(85), EMPTY, True, at(5), memory=theirs)
        alerts.evaluate("local", s, EMPTY, True, at(10), memory=mine)
        assert AlertState.objects.get().value == 80

    def test_its_states_deleted_outright_are_made_again(self):
        rule(for_seconds=0)
        s = lagging(80)
        mine = AlertMemory()
        alerts.evaluate("local", s, EMPTY, True, at(0), memory=mine)
        AlertState.objects.all().delete()
        [again] = alerts.evaluate("local", s, EMPTY, True, at(5), memory=mine)
        assert again.kind == "firing" and AlertState.objects.get().firing_since == at(5)

    def test_alternating_pollers_equal_one_reading_the_database(self):
        rule(for_seconds=10)
        rule(name="any", pattern="*", threshold=15, for_seconds=0)
        lags = [80, 80, 60, 60, 20, 20, 80, 90, 90, 0, 0, 80]
        shared = {lag: lagging(lag) for lag in set(lags)}  # equal readings come as the same objects
        history = [(at(5 * i), shared[lag], EMPTY, True) for i, lag in enumerate(lags)]
        memories = [AlertMemory(), AlertMemory()]
        alternating = []
        for i, (now, s, figures, reachable) in enumerate(history):
            memory = memories[(i // 2) % 2]  # two cycles each
            alternating.append((said(alerts.evaluate("local", s, figures, reachable, now, memory=memory)), rows()))
        AlertState.objects.all().delete()
        AlertEvent.objects.all().delete()
        assert alternating == same_as_from_scratch(history)


class TestQuietGroupsAndTheClock:
    """A group that stopped consuming with records waiting: its figures come from the quiet path
    and its Group object stays the same, while its time lag, its status and a pending state's
    duration move with the clock alone."""

    def history(self) -> list[Cycle]:
        moving = [
            snapshot(at(5 * i), ends={"orders": [25 * i]}, groups={"payments-svc": {("orders", 0): 40}})
            for i in range(5)
        ]
        still = snapshot(at(25), ends={"orders": [100]}, groups={"payments-svc": {("orders", 0): 40}})
        snaps = moving + [dataclasses.replace(still, collected_at=at(5 * i)) for i in range(5, 30)]
        tracker = FigureTracker()
        history: list[Cycle] = []
        for i, s in enumerate(snaps):
            figures = tracker.update(s)
            assert i < 5 or s.groups[0] is still.groups[0]
            history.append((s.collected_at, s, figures, True))
        assert tracker.quiet_groups == 1
        return history

    def test_thresholds_crossed_by_the_clock_fire(self):
        rule(name="lag", threshold=50, for_seconds=30)  # breached from 20 s on (lag 60), due at 50 s
        rule(name="time lag", condition="time_lag_gt", threshold=60, for_seconds=0)
        rule(name="stopped", condition="status_in", statuses="STOP,STALL", for_seconds=10)
        kept = same_as_from_scratch(self.history())
        fired = [(i * 5, e) for i, (events, _) in enumerate(kept) for e in events]
        assert fired == [
            (50, ("lag", "payments-svc", "firing", 60.0)),
            (70, ("time lag", "payments-svc", "firing", 62.0)),
            (80, ("stopped", "payments-svc", "firing", None)),
        ]
        # The time lag's value is written as it ages, every cycle.
        history = self.history()
        assert [r[5] for r in kept[-1][1]] == [60.0, None, history[-1][2].groups["payments-svc"].time_lag.seconds]

    def test_a_group_gone_for_a_cycle_comes_back_as_the_same_object(self):
        rule(for_seconds=0)
        s = lagging(80)
        gone = dataclasses.replace(s, groups=tuple(g for g in s.groups if g.group_id != "payments-svc"))
        history = [(at(0), s, EMPTY, True), (at(5), gone, EMPTY, True), (at(10), s, EMPTY, True)]
        kept = same_as_from_scratch(history)
        assert [[e[2] for e in events] for events, _ in kept] == [["firing"], ["resolved"], ["firing"]]


def churn_history(cycles: int, seed: int) -> list[Cycle]:
    churn = Churn(groups=120, topics=8, partitions=2, seed=seed, reuse=True)
    snaps = []
    for c in range(cycles):
        churn.advance()
        snaps.append(churn.snapshot(reachable=c % 13 != 7))
    return figured(snaps)


class TestSyntheticHistories:
    RULES = (
        dict(name="lag now", pattern="*", threshold=30, for_seconds=0),
        dict(name="lag held", pattern="/^group-0[0-4]/", threshold=20, for_seconds=15),
        dict(name="time lag", pattern="*", condition="time_lag_gt", threshold=12, for_seconds=10),
        dict(name="stopped", pattern="group-*", condition="status_in", statuses="STOP,STALL", for_seconds=0),
        dict(name="filling", pattern="*", condition="status_in", statuses="nodata", for_seconds=20),
        dict(name="down", pattern="*", condition="unreachable", for_seconds=0),
    )

    def rules(self) -> None:
        for kw in self.RULES:
            rule(**kw)

    def test_churn_with_groups_coming_and_going_and_unreachable_cycles(self):
        self.rules()
        kept = same_as_from_scratch(churn_history(50, seed=3), cluster="c")
        kinds = {e[2] for events, _ in kept for e in events}
        assert kinds == {"firing", "resolved"} and sum(len(events) for events, _ in kept) > 50

    def test_bench_cluster_small_handed_on(self):
        self.rules()
        cluster = SyntheticCluster(groups=150, partitions=2, topics=12, commit_fraction=0.05, seed=5)
        snaps = []
        for c in range(40):
            cluster.advance()
            snaps.append(cluster.snapshot(c))
        kept = same_as_from_scratch(figured(handed_on(snaps)), cluster="bench")
        assert sum(len(events) for events, _ in kept) > 20

    def test_rules_edited_during_a_history(self):
        history = churn_history(30, seed=4)
        edits = {
            5: lambda: AlertRule.objects.filter(name="lag now").update(threshold=45),
            9: lambda: AlertRule.objects.filter(name="lag held").update(for_seconds=0),
            14: lambda: AlertRule.objects.filter(name="time lag").delete(),
            18: lambda: rule(name="late", pattern="*x", threshold=5, for_seconds=5),
            22: lambda: AlertRule.objects.filter(name="stopped").update(enabled=False),
            26: lambda: AlertRule.objects.filter(name="stopped").update(enabled=True, statuses="STOP"),
        }

        def run(memory: AlertMemory | None) -> list[tuple[list, list]]:
            AlertRule.objects.all().delete()  # and with them their states and events
            self.rules()
            out = []
            for i, (now, snap, figures, reachable) in enumerate(history):
                if i in edits:
                    edits[i]()
                out.append((said(alerts.evaluate("c", snap, figures, reachable, now, memory=memory)), rows()))
            return out

        kept = run(AlertMemory())
        assert kept == run(None)
        assert sum(len(events) for events, _ in kept) > 20
