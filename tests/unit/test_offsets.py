"""The pure parts of offset reset: spec parsing, selectors, clamping, target offsets, refusals."""

from __future__ import annotations

from concurrent.futures import TimeoutError as FutureTimeout

import pytest
from confluent_kafka import KafkaError

from kafka_admin import offset_reset as offsets
from kafka_admin import offset_write
from kafka_admin.offset_reset import InvalidReset, ResetMember, ResetRow, ResetSpec


class TestParseSpec:
    def test_earliest_and_latest_take_no_value(self):
        assert offsets.parse_spec("earliest") == ResetSpec("earliest")
        assert offsets.parse_spec("latest", "") == ResetSpec("latest")
        with pytest.raises(InvalidReset, match="takes no value"):
            ResetSpec("latest", 3)

    def test_offset_and_shift(self):
        assert offsets.parse_spec("offset", " 42 ") == ResetSpec("offset", 42)
        assert offsets.parse_spec("shift", "-10") == ResetSpec("shift", -10)
        assert offsets.parse_spec("shift", "+3") == ResetSpec("shift", 3)

    @pytest.mark.parametrize(
        ("to", "raw", "message"),
        [
            ("offset", "abc", "the offset must be a whole number"),
            ("offset", "-1", "the offset must be a whole number, 0 or more"),
            ("offset", "", "the offset must be a whole number"),
            ("offset", "1.5", "the offset must be a whole number"),
            ("shift", "ten", "the shift must be a whole number"),
            ("shift", "--1", "the shift must be a whole number"),
            ("shift", "99999999999999999999", "the shift must be"),
            ("timestamp", "yesterday", "not a timestamp"),
            ("timestamp", "", "a timestamp is required"),
            ("timestamp", "1969-12-31T00:00:00Z", "after 1970"),
            ("sideways", "", "choose a reset target"),
            ("", "", "choose a reset target"),
        ],
    )
    def test_bad_input_is_explained(self, to, raw, message):
        with pytest.raises(InvalidReset, match=message):
            offsets.parse_spec(to, raw)

    def test_timestamps(self):
        assert offsets.parse_timestamp("1700000000000") == 1_700_000_000_000
        assert offsets.parse_timestamp("2023-11-14T22:13:20Z") == 1_700_000_000_000
        assert offsets.parse_timestamp("2023-11-14T22:13:20") == 1_700_000_000_000  # UTC when it does not say
        assert offsets.parse_timestamp("2023-11-14T23:13:20+01:00") == 1_700_000_000_000
        assert offsets.parse_spec("timestamp", "2023-11-14T22:13:20.5Z") == ResetSpec("timestamp", 1_700_000_000_500)

    def test_describe(self):
        assert ResetSpec("shift", -5).describe() == "shift by -5"
        assert "2023-11-14T22:13:20.000Z" in ResetSpec("timestamp", 1_700_000_000_000).describe()
        assert ResetSpec("offset", 7).as_dict() == {"to": "offset", "value": 7, "text": "to offset 7"}


class TestSelectors:
    def test_topic_alone_and_partitions(self):
        assert offsets.parse_selector("orders") == ("orders", None)
        assert offsets.parse_selector(" orders:2,0,2 ") == ("orders", (0, 2))

    @pytest.mark.parametrize("text", ["", ":1", "orders:x", "orders:1,", "orders:-1", "a b:1"])
    def test_bad_selectors(self, text):
        with pytest.raises(InvalidReset):
            offsets.parse_selector(text)

    def test_expand_against_metadata(self):
        metadata = {"orders": 3, "pay": 1}
        got = offsets.expand_partitions(metadata, ["pay", ("orders", 2), ("orders", None), ("orders", 0)])
        assert got == [("orders", 0), ("orders", 1), ("orders", 2), ("pay", 0)]
        with pytest.raises(InvalidReset, match="topic 'nope' does not exist"):
            offsets.expand_partitions(metadata, ["nope"])
        with pytest.raises(InvalidReset, match=r"topic 'orders' has no partition 99 \(it has 3: 0-2\)"):
            offsets.expand_partitions(metadata, [("orders", 99)])


class TestClampAndTarget:
    def test_clamp(self):
        assert offsets.clamp(5, 2, 10) == (5, None)
        assert offsets.clamp(1, 2, 10) == (2, "1 is before the log start: clamped to 2")
        assert offsets.clamp(11, 2, 10) == (10, "11 is after the log end: clamped to 10")
        assert offsets.clamp(10, 2, 10) == (10, None)  # the log end itself is a valid position

    def test_targets(self):
        t = offsets.target_offset
        assert t(ResetSpec("earliest"), 5, 2, 10) == (2, None)
        assert t(ResetSpec("latest"), 5, 2, 10) == (10, None)
        assert t(ResetSpec("offset", 7), None, 2, 10) == (7, None)
        assert t(ResetSpec("offset", 70), None, 2, 10)[0] == 10
        assert t(ResetSpec("shift", -2), 5, 2, 10) == (3, None)
        assert t(ResetSpec("shift", -20), 5, 2, 10) == (2, "-15 is before the log start: clamped to 2")
        assert t(ResetSpec("shift", 20), 5, 2, 10)[0] == 10
        assert t(ResetSpec("shift", 1), None, 2, 10) == (None, "no committed offset to shift from")

    def test_timestamp_after_the_last_record_is_the_log_end(self):
        spec = ResetSpec("timestamp", 1)
        assert offsets.target_offset(spec, 5, 2, 10, at_time=-1) == (10, "no record at or after the timestamp: log end")
        assert offsets.target_offset(spec, 5, 2, 10, at_time=None)[0] == 10
        assert offsets.target_offset(spec, 5, 2, 10, at_time=4) == (4, None)

    def test_lag(self):
        assert offsets.lag(None, 10) is None
        assert offsets.lag(4, 10) == 6
        assert offsets.lag(12, 10) == 0


class TestRefusal:
    def test_members_are_named(self):
        members = (ResetMember("m-1", "client-a", "/10.0.0.1"), ResetMember("m-2", "client-b", "/10.0.0.2"))
        reason = offsets.blocked_reason("Stable", members)
        assert reason.startswith("the group has 2 active members: client-a on /10.0.0.1, client-b on /10.0.0.2")
        assert "stop them first" in reason
        assert "1 active member:" in offsets.blocked_reason("Stable", members[:1])

    def test_states(self):
        assert offsets.blocked_reason("Empty", ()) is None
        assert offsets.blocked_reason("Dead", ()) is None
        assert "PreparingRebalance" in offsets.blocked_reason("PreparingRebalance", ())

    def test_plan_can_apply(self):
        row = ResetRow("t", 0, 5, 2, 2, 10, 5, 8)
        plan = offsets.ResetPlan("g", "Empty", (), (row,), spec=ResetSpec("earliest"))
        assert plan.can_apply and plan.changed == 1 and plan.lag_before == 5 and plan.lag_after == 8
        assert not offsets.ResetPlan("g", "Empty", (), (row,), errors=("x",)).can_apply
        assert not offsets.ResetPlan("g", "Stable", (), (row,), blocked_reason="busy").can_apply
        assert not offsets.ResetPlan("g", "Empty", (), ()).can_apply

    def test_apply_refuses_a_blocked_plan_without_touching_the_broker(self):
        plan = offsets.ResetPlan("g", "Stable", (), (), blocked_reason="the group has 1 active member: a on /h")
        result = offsets.apply_reset(None, plan)  # type: ignore[arg-type] - never reaches the broker
        assert result.refused and not result.applied and "active member" in result.error


class TestFormParsing:
    def test_form(self):
        from django.http import QueryDict

        from dashboard.offsets.views import parse_form

        q = QueryDict(mutable=True)
        q.setlist("tp", ["orders:1", "pay"])
        q.update({"scope": "selected", "more": "x:0,2  y", "to": "shift", "value": "-3"})
        partitions, spec, fields = parse_form(q)
        assert partitions == [("orders", 1), ("pay", None), ("x", 0), ("x", 2), ("y", None)]
        assert spec == ResetSpec("shift", -3)
        assert fields["tp"] == ["orders:1", "pay"]
        q2 = QueryDict("scope=all&to=earliest")
        assert parse_form(q2)[0] is None
        with pytest.raises(InvalidReset, match="choose the partitions"):
            parse_form(QueryDict("scope=selected&to=earliest"))
        with pytest.raises(InvalidReset, match="scope"):
            parse_form(QueryDict("scope=some&to=earliest"))

    def test_changed_since_preview(self):
        from dashboard.offsets.views import changed_since_preview, expectations

        plan = offsets.ResetPlan("g", "Empty", (), (ResetRow("t", 0, 5, 2, 2, 10, 5, 8),))
        assert expectations(plan) == ["t:0:5"]
        assert changed_since_preview(plan, ["t:0:5"]) == []
        assert changed_since_preview(plan, ["t:0:4"]) == ["t/0"]
        assert changed_since_preview(plan, []) == ["t/0"]


class TestKafkaAnswers:
    def test_unknown_member_is_explained_as_active_members(self):
        text = offset_write.explain(KafkaError(KafkaError.UNKNOWN_MEMBER_ID))
        assert text.startswith("the group has active members again (UNKNOWN_MEMBER_ID")
        assert "unknown topic or partition" in offset_write.explain(KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART))
        assert offset_write.explain(TimeoutError("no answer in 10 s")) == "no answer in 10 s"

    @pytest.mark.parametrize(
        "code",
        [
            KafkaError.NOT_COORDINATOR,
            KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
            KafkaError.COORDINATOR_NOT_AVAILABLE,
            KafkaError.REQUEST_TIMED_OUT,
            KafkaError._TIMED_OUT,
            KafkaError._TRANSPORT,
        ],
    )
    def test_coordinator_moves_and_timeouts_are_retried(self, code):
        assert offset_write.is_retriable(KafkaError(code))

    @pytest.mark.parametrize(
        "code",
        [
            KafkaError.UNKNOWN_MEMBER_ID,
            KafkaError.REBALANCE_IN_PROGRESS,
            KafkaError.GROUP_AUTHORIZATION_FAILED,
            KafkaError.UNKNOWN_TOPIC_OR_PART,
        ],
    )
    def test_refusals_are_final(self, code):
        """Members in the group, no permission, no topic: another try gets the same answer."""
        assert not offset_write.is_retriable(KafkaError(code))

    def test_librdkafkas_own_retriable_flag_counts_except_for_members(self):
        assert offset_write.is_retriable(KafkaError(KafkaError.INVALID_COMMIT_OFFSET_SIZE, retriable=True))
        assert not offset_write.is_retriable(KafkaError(KafkaError.UNKNOWN_MEMBER_ID, retriable=True))
        assert offset_write.is_retriable(FutureTimeout())
        assert not offset_write.is_retriable(ValueError("bad"))

    def test_backoff_doubles_and_is_capped(self):
        assert offset_write.backoffs(5, 0.2) == [0.2, 0.4, 0.8, 1.6]
        assert offset_write.backoffs(7, 0.5) == [0.5, 1.0, 2.0, 2.0, 2.0, 2.0]
        assert offset_write.backoffs(1) == []


class TestReadBack:
    """compare() is what makes a reset say 'verified': the offset Kafka holds, per partition."""

    def test_each_partition_verified_or_not(self):
        checks = offset_write.compare({("t", 1): 5, ("t", 0): 3, ("u", 0): 9}, {("t", 0): 3, ("t", 1): 7})
        assert [(c.topic, c.partition, c.planned, c.stored, c.verified) for c in checks] == [
            ("t", 0, 3, 3, True),
            ("t", 1, 5, 7, False),
            ("u", 0, 9, None, False),
        ]
        assert [c.describe() for c in checks] == [
            "t/0: 3",
            "t/1: Kafka holds 7, not 5",
            "u/0: no committed offset read back (asked for 9)",
        ]

    def test_a_result_is_ok_only_when_every_written_row_reads_back(self):
        from dashboard.offsets.views import outcome_of

        rows = (ResetRow("t", 0, 5, 2, 0, 10, 5, 8), ResetRow("t", 1, 5, 2, 0, 10, 5, 8))
        held = offset_write.compare({("t", 0): 2, ("t", 1): 2}, {("t", 0): 2, ("t", 1): 2})
        done = offsets.ApplyResult(rows, checks=held)
        assert done.ok and done.verified == rows and outcome_of(done) == "done"
        moved = offset_write.compare({("t", 0): 2, ("t", 1): 2}, {("t", 0): 2, ("t", 1): 4})
        lost = offsets.ApplyResult(rows, "not verified: t/1", checks=moved)
        assert not lost.ok and lost.verified == rows[:1] and outcome_of(lost) == "unverified"
        assert [c.partition for c in lost.unverified] == [1]
        unchecked = offsets.ApplyResult(rows)  # answered as written, never read back: not a success
        assert not unchecked.ok
        refused_one = offsets.ApplyResult(rows[:1], "Kafka refused 1", (("t", 1, "no"),), checks=held[:1])
        assert outcome_of(refused_one) == "partial"
