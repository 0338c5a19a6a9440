"""Offset reset against the real broker: the five modes, the refusal while members are active, the
pages (roles, CSRF, preview -> apply, audit), the CLI, and bad input. Verified with Kafka's own
kafka-consumer-groups, never with our own reading of the offsets.
"""

from __future__ import annotations

import re
import time
from html import unescape

import pytest
from confluent_kafka import TopicPartition
from confluent_kafka.admin import AdminClient
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from dashboard.management.commands.reset_offsets import HEADERS
from dashboard.models import AuditEntry
from kafka_admin import offset_reset as offsets
from kafka_admin.offset_reset import InvalidReset, ResetSpec
from tests.kafka_support import KEEP_OLD_RECORDS

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

BASE_TS = 1_700_000_000_000  # record i of every partition is written at BASE_TS + i seconds


# --- helpers ---------------------------------------------------------------------------------------


def tool_offsets(broker, group: str) -> dict[tuple[str, int], int | None]:
    """CURRENT-OFFSET per partition, as Kafka's own kafka-consumer-groups --describe prints it."""
    out = broker.tool("kafka-consumer-groups", "--describe", "--group", group)
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["GROUP", "TOPIC"])
    columns = lines[header].split()
    rows = {}
    for line in lines[header + 1 :]:
        cells = line.split()
        if len(cells) != len(columns):
            continue
        row = dict(zip(columns, cells, strict=True))
        current = row["CURRENT-OFFSET"]
        rows[(row["TOPIC"], int(row["PARTITION"]))] = None if current == "-" else int(current)
    return rows


def make_group(kafka, committed=(5, 5, 5), records: int = 10, partitions: int = 3) -> tuple[str, str]:
    """A topic with `records` records per partition at known timestamps and an Empty group with commits."""
    topic = kafka.create_topic(kafka.unique("reset"), partitions=partitions, config=KEEP_OLD_RECORDS)
    p = kafka.producer(acks="all")
    for partition in range(partitions):
        for i in range(records):
            p.produce(topic, value=f"{partition}-{i}".encode(), partition=partition, timestamp=BASE_TS + i * 1000)
    assert p.flush(30) == 0
    group = kafka.unique("reset-group")
    kafka.commit(group, [(topic, partition, offset) for partition, offset in enumerate(committed)])
    return topic, group


class WriterInBetween(AdminClient):
    """A real admin client after whose offset write another writer commits, before the reset reads
    the offsets back: what a consumer that joins and commits (or a second operator) does then."""

    def __init__(self, conf: dict, then) -> None:
        super().__init__(conf)
        self.then = then

    def alter_consumer_group_offsets(self, requests, **kwargs):
        futures = super().alter_consumer_group_offsets(requests, **kwargs)
        for future in futures.values():
            future.result(timeout=30)
        self.then()
        return futures


def another_writer_after_the_write(monkeypatch, then) -> None:
    """Every admin client the reset builds from here on is a WriterInBetween."""

    def make(config, on_error=None) -> WriterInBetween:
        return WriterInBetween(config.client_config(), then)

    monkeypatch.setattr(offsets.reading, "make_admin", make)


def user_client(name: str, role: str, **client_kwargs) -> Client:
    user = get_user_model().objects.create_user(name, password=f"pw-{name}-123")
    user.groups.add(Group.objects.get(name=role))
    client = Client(**client_kwargs)
    client.force_login(user)
    return client


def hidden(html: str, name: str) -> list[str]:
    return [unescape(v) for v in re.findall(rf'<input type="hidden" name="{name}" value="([^"]*)">', html)]


def confirm_fields(html: str) -> dict[str, list[str]]:
    """The hidden fields of the preview's confirmation form, as a browser would post them back."""
    names = set(re.findall(r'<input type="hidden" name="([a-z]+)"', html)) - {"csrfmiddlewaretoken"}
    return {name: hidden(html, name) for name in names}


# --- the five modes, verified with kafka-consumer-groups ----------------------------------------------


class TestModes:
    def test_earliest_after_deleted_records(self, kafka, broker):
        topic, group = make_group(kafka)
        deleted = kafka.admin.delete_records([TopicPartition(topic, 0, 3)], request_timeout=30)
        for f in deleted.values():
            f.result(timeout=30)
        config = broker.config()
        plan = offsets.plan_reset(config, group, [topic], ResetSpec("earliest"))
        assert plan.can_apply and plan.state == "Empty" and plan.members == ()
        assert [(r.partition, r.current, r.new, r.lag_before, r.lag_after) for r in plan.rows] == [
            (0, 5, 3, 5, 7),
            (1, 5, 0, 5, 10),
            (2, 5, 0, 5, 10),
        ]
        assert tool_offsets(broker, group) == {(topic, 0): 5, (topic, 1): 5, (topic, 2): 5}  # plan changes nothing
        result = offsets.apply_reset(config, plan)
        assert result.ok and len(result.applied) == 3
        assert tool_offsets(broker, group) == {(topic, 0): 3, (topic, 1): 0, (topic, 2): 0}

    def test_latest_on_chosen_partitions(self, kafka, broker):
        topic, group = make_group(kafka)
        config = broker.config()
        plan = offsets.plan_reset(config, group, [(topic, 1), (topic, 2)], ResetSpec("latest"))
        assert [(r.partition, r.new, r.lag_after) for r in plan.rows] == [(1, 10, 0), (2, 10, 0)]
        assert offsets.apply_reset(config, plan).ok
        assert tool_offsets(broker, group) == {(topic, 0): 5, (topic, 1): 10, (topic, 2): 10}

    def test_timestamp(self, kafka, broker):
        topic, group = make_group(kafka)
        config = broker.config()
        spec = offsets.parse_spec("timestamp", "2023-11-14T22:13:23.500Z")  # BASE_TS + 3.5 s -> record 4
        plan = offsets.plan_reset(config, group, None, spec)
        assert {r.new for r in plan.rows} == {4}
        assert offsets.apply_reset(config, plan).ok
        assert set(tool_offsets(broker, group).values()) == {4}
        future = offsets.plan_reset(config, group, [(topic, 0)], ResetSpec("timestamp", int(time.time() * 1000) + 1))
        assert future.rows[0].new == 10 and "log end" in future.rows[0].note  # after the last record: log end

    def test_offset_clamped_to_the_log_end(self, kafka, broker):
        topic, group = make_group(kafka)
        config = broker.config()
        plan = offsets.plan_reset(config, group, [f"{topic}"], ResetSpec("offset", 7))
        assert offsets.apply_reset(config, plan).ok
        assert set(tool_offsets(broker, group).values()) == {7}
        far = offsets.plan_reset(config, group, [(topic, 0)], ResetSpec("offset", 999))
        assert far.rows[0].new == 10 and "clamped to 10" in far.rows[0].note
        assert offsets.apply_reset(config, far).ok
        assert tool_offsets(broker, group)[(topic, 0)] == 10

    def test_shift_both_ways_clamped(self, kafka, broker):
        topic, group = make_group(kafka, committed=(5, 1, 9))
        config = broker.config()
        plan = offsets.plan_reset(config, group, None, ResetSpec("shift", -2))
        moves = [(r.current, r.new, r.note is not None) for r in plan.rows]
        assert moves == [(5, 3, False), (1, 0, True), (9, 7, False)]
        assert offsets.apply_reset(config, plan).ok
        assert tool_offsets(broker, group) == {(topic, 0): 3, (topic, 1): 0, (topic, 2): 7}
        forward = offsets.plan_reset(config, group, None, ResetSpec("shift", 5))
        assert offsets.apply_reset(config, forward).ok
        assert tool_offsets(broker, group) == {(topic, 0): 8, (topic, 1): 5, (topic, 2): 10}

    def test_shift_needs_a_committed_offset(self, kafka, broker):
        topic, group = make_group(kafka, committed=(5,), partitions=2)
        plan = offsets.plan_reset(broker.config(), group, [topic], ResetSpec("shift", 1))
        assert not plan.can_apply and plan.errors == (f"{topic}/1: no committed offset to shift from",)
        assert not offsets.apply_reset(broker.config(), plan).ok


# --- the read-back: a reset is done when Kafka holds the new offsets -------------------------------------


class TestReadBack:
    def test_every_partition_is_read_back(self, kafka, broker):
        _, group = make_group(kafka, committed=(5, 1, 9))
        config = broker.config()
        result = offsets.apply_reset(config, offsets.plan_reset(config, group, None, ResetSpec("offset", 3)))
        assert result.ok
        assert [(c.partition, c.planned, c.stored) for c in result.checks] == [(0, 3, 3), (1, 3, 3), (2, 3, 3)]
        assert len(result.verified) == 3 and result.unverified == ()

    def test_offsets_overwritten_before_the_read_back_are_not_verified(self, kafka, broker):
        topic, group = make_group(kafka)
        config = broker.config()
        plan = offsets.plan_reset(config, group, None, ResetSpec("earliest"))
        admin = WriterInBetween(config.client_config(), lambda: kafka.commit(group, [(topic, 1, 7)]))
        result = offsets.apply_reset(config, plan, admin=admin)
        assert len(result.applied) == 3 and not result.failed  # Kafka answered every write as done
        assert not result.ok
        checks = [(c.partition, c.stored, c.verified) for c in result.checks]
        assert checks == [(0, 0, True), (1, 7, False), (2, 0, True)]
        assert "not verified" in result.error and f"{topic}/1: Kafka holds 7, not 0" in result.error
        assert [r.partition for r in result.verified] == [0, 2]
        assert tool_offsets(broker, group) == {(topic, 0): 0, (topic, 1): 7, (topic, 2): 0}

    def test_the_cli_says_what_it_verified_and_exits_1(self, kafka, broker, dashboard_cluster, monkeypatch):
        topic, group = make_group(kafka)
        another_writer_after_the_write(monkeypatch, lambda: kafka.commit(group, [(topic, 2, 8)]))
        with pytest.raises(CommandError) as info:
            TestCommand().run("--group", group, "--all-topics", "--to-latest", "--actor", "bob")
        assert info.value.returncode == 1
        message = str(info.value)
        assert "verified 2 of 3 partitions" in message and f"{topic}/2: Kafka holds 8, not 10" in message
        entry = AuditEntry.objects.get(target=group)
        assert (entry.actor, entry.result, entry.count) == ("bob", "unverified", 2)
        assert entry.details["unverified"] == [f"{topic}/2: Kafka holds 8, not 10"]
        assert tool_offsets(broker, group) == {(topic, 0): 10, (topic, 1): 10, (topic, 2): 8}

    def test_the_page_answers_409_naming_the_partitions(self, kafka, broker, dashboard_cluster, monkeypatch, settings):
        settings.BROKER_ACTIONS_ISOLATED = False  # the writer in between is patched into this process
        topic, group = make_group(kafka)
        op = user_client("op", "operators")
        preview = op.post(reverse("reset_preview", args=["test", group]), {"scope": "all", "to": "earliest"})
        another_writer_after_the_write(monkeypatch, lambda: kafka.commit(group, [(topic, 0, 4)]))
        applied = op.post(reverse("reset_apply", args=["test", group]), confirm_fields(preview.content.decode()))
        html = unescape(applied.content.decode())
        assert applied.status_code == 409 and 'data-testid="reset-done"' not in html
        assert "not verified" in html and f"{topic}/0: Kafka holds 4, not 0" in html
        entry = AuditEntry.objects.get(target=group)
        assert (entry.result, entry.count, entry.details["verified"]) == ("unverified", 2, 2)


# --- refused while members are active ------------------------------------------------------------------


class TestActiveMembers:
    @pytest.mark.parametrize("protocol", ["classic", "consumer"])
    def test_refused_with_the_members_named_and_offsets_unchanged(self, kafka, broker, protocol):
        topic, group = make_group(kafka)
        config = broker.config()
        before_plan = offsets.plan_reset(config, group, None, ResetSpec("earliest"))  # made while Empty
        assert before_plan.can_apply
        conf = {"client.id": f"reset-test-{protocol}", "group.protocol": protocol}
        if protocol == "consumer":  # the broker owns session and heartbeat timing in KIP-848 groups
            conf.update({"session.timeout.ms": None, "heartbeat.interval.ms": None})
        with kafka.live_consumer(group, [topic], **conf):
            plan = offsets.plan_reset(config, group, None, ResetSpec("earliest"))
            assert not plan.can_apply
            assert f"reset-test-{protocol} on /127.0.0.1" in plan.blocked_reason
            assert plan.blocked_reason.startswith("the group has 1 active member:")
            assert [m.client_id for m in plan.members] == [f"reset-test-{protocol}"]
            refused = offsets.apply_reset(config, plan)
            assert refused.refused and not refused.applied and f"reset-test-{protocol}" in refused.error
            # A plan made before the consumer joined is refused too: apply looks at the group again.
            stale = offsets.apply_reset(config, before_plan)
            assert stale.refused and not stale.applied and f"reset-test-{protocol}" in stale.error
            assert tool_offsets(broker, group) == {(topic, 0): 5, (topic, 1): 5, (topic, 2): 5}
        assert tool_offsets(broker, group) == {(topic, 0): 5, (topic, 1): 5, (topic, 2): 5}


# --- bad input -----------------------------------------------------------------------------------------


class TestBadInput:
    def test_clear_errors(self, kafka, broker):
        topic, group = make_group(kafka)
        config = broker.config()
        with pytest.raises(InvalidReset, match="does not exist"):
            offsets.plan_reset(config, kafka.unique("no-such-group"), None, ResetSpec("earliest"))
        with pytest.raises(InvalidReset, match="topic 'no-such-topic-x' does not exist"):
            offsets.plan_reset(config, group, ["no-such-topic-x"], ResetSpec("earliest"))
        with pytest.raises(InvalidReset, match=f"topic '{topic}' has no partition 99"):
            offsets.plan_reset(config, group, [(topic, 99)], ResetSpec("earliest"))
        assert tool_offsets(broker, group) == {(topic, 0): 5, (topic, 1): 5, (topic, 2): 5}


# --- the pages -----------------------------------------------------------------------------------------


class TestPages:
    def test_viewer_gets_403_everywhere(self, kafka, dashboard_cluster):
        _, group = make_group(kafka)
        viewer = user_client("viewer", "viewers")
        assert viewer.get(reverse("reset_offsets", args=["test", group])).status_code == 403
        data = {"scope": "all", "to": "earliest"}
        assert viewer.post(reverse("reset_preview", args=["test", group]), data).status_code == 403
        assert viewer.post(reverse("reset_apply", args=["test", group]), {**data, "confirm": "yes"}).status_code == 403
        group_page = viewer.get(reverse("group", args=["test", group])).content.decode()
        assert "Reset offsets" not in group_page

    def test_the_form_makes_you_choose_the_target(self, kafka, dashboard_cluster):
        _, group = make_group(kafka)
        html = user_client("op", "operators").get(reverse("reset_offsets", args=["test", group])).content.decode()
        radios = re.findall(r'<input type="radio" name="to"[^>]*>', html)
        assert len(radios) == 5 and not any("checked" in r for r in radios), radios  # no "Earliest" by default
        assert all("required" in r for r in radios)
        assert 'placeholder="e.g. 2026-01-31T14:05:00Z' in html  # an example, not a value

    def test_preview_then_apply_then_audit(self, kafka, broker, dashboard_cluster):
        topic, group = make_group(kafka)
        op = user_client("op", "operators")
        assert 'data-testid="reset-link"' in op.get(reverse("group", args=["test", group])).content.decode()
        form = op.get(reverse("reset_offsets", args=["test", group]))
        html = form.content.decode()
        assert form.status_code == 200 and f'value="{topic}:2"' in html and "Empty" in html
        preview = op.post(
            reverse("reset_preview", args=["test", group]),
            {"scope": "selected", "tp": [f"{topic}:0", f"{topic}:1"], "to": "shift", "value": "-3"},
        )
        html = preview.content.decode()
        assert preview.status_code == 200 and "shift by -3" in html
        cells = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
        assert "0 5 → 2 5 → 8" in cells and "1 5 → 2 5 → 8" in cells  # partition, current → new, lag before → after
        assert tool_offsets(broker, group) == {(topic, 0): 5, (topic, 1): 5, (topic, 2): 5}
        fields = confirm_fields(html)
        assert fields["confirm"] == ["yes"] and sorted(fields["expect"]) == [f"{topic}:0:5", f"{topic}:1:5"]
        applied = op.post(reverse("reset_apply", args=["test", group]), fields)
        assert applied.status_code == 200 and 'data-testid="reset-done"' in applied.content.decode()
        assert tool_offsets(broker, group) == {(topic, 0): 2, (topic, 1): 2, (topic, 2): 5}
        entry = AuditEntry.objects.get(action="offset-reset", target=group)
        assert (entry.actor, entry.cluster, entry.count, entry.result) == ("op", "test", 2, "done")
        assert entry.details["spec"]["to"] == "shift" and entry.details["spec"]["value"] == -3
        assert [(r["partition"], r["current"], r["new"]) for r in entry.details["rows"]] == [(0, 5, 2), (1, 5, 2)]
        # The same confirmation posted again (a reload) is refused: the offsets moved since that preview.
        again = op.post(reverse("reset_apply", args=["test", group]), fields)
        assert again.status_code == 409 and "changed since the preview" in unescape(again.content.decode())
        assert tool_offsets(broker, group) == {(topic, 0): 2, (topic, 1): 2, (topic, 2): 5}
        assert AuditEntry.objects.filter(target=group, result="refused").count() == 1

    def test_blocked_preview_names_members_and_has_no_confirm(self, kafka, broker, dashboard_cluster):
        topic, group = make_group(kafka)
        op = user_client("op", "operators")
        data = {"scope": "all", "to": "earliest"}
        preview_ok = op.post(reverse("reset_preview", args=["test", group]), data).content.decode()
        fields = confirm_fields(preview_ok)
        with kafka.live_consumer(group, [topic], **{"client.id": "page-live-client"}):
            form = op.get(reverse("reset_offsets", args=["test", group])).content.decode()
            assert 'data-testid="reset-blocked"' in form and "page-live-client" in form
            preview = op.post(reverse("reset_preview", args=["test", group]), data)
            html = preview.content.decode()
            assert preview.status_code == 200 and "Refused: the group has 1 active member" in html
            assert "page-live-client" in html and "reset_apply" not in html and "confirm" not in html
            applied = op.post(reverse("reset_apply", args=["test", group]), fields)
            assert applied.status_code == 409 and "page-live-client" in applied.content.decode()
        assert tool_offsets(broker, group) == {(topic, 0): 5, (topic, 1): 5, (topic, 2): 5}
        entry = AuditEntry.objects.get(target=group)
        assert entry.result == "refused" and entry.count == 0 and entry.details["members"][0]["client_id"]

    def test_csrf_is_enforced(self, kafka, broker, dashboard_cluster):
        _, group = make_group(kafka)
        op = user_client("op", "operators", enforce_csrf_checks=True)
        data = {"scope": "all", "to": "earliest", "confirm": "yes"}
        assert op.post(reverse("reset_preview", args=["test", group]), data).status_code == 403
        assert op.post(reverse("reset_apply", args=["test", group]), data).status_code == 403
        assert set(tool_offsets(broker, group).values()) == {5}

    def test_bad_input_pages(self, kafka, dashboard_cluster):
        topic, group = make_group(kafka)
        op = user_client("op", "operators")
        assert op.get(reverse("reset_offsets", args=["test", kafka.unique("nobody")])).status_code == 404
        cases = [
            ({"scope": "all", "to": "earliest"}, kafka.unique("nobody"), "does not exist"),
            ({"scope": "selected", "more": "no-such-topic-y", "to": "earliest"}, group, "does not exist"),
            ({"scope": "selected", "more": f"{topic}:99", "to": "earliest"}, group, "has no partition 99"),
            ({"scope": "all", "to": "timestamp", "value": "last tuesday"}, group, "not a timestamp"),
            ({"scope": "all", "to": "offset", "value": "ten"}, group, "the offset must be a whole number"),
            ({"scope": "all", "to": "shift", "value": ""}, group, "the shift must be a whole number"),
            ({"scope": "all", "to": "sideways"}, group, "choose a reset target"),
            ({"scope": "selected", "to": "earliest"}, group, "choose the partitions"),
        ]
        for data, gid, message in cases:
            response = op.post(reverse("reset_preview", args=["test", gid]), data)
            assert response.status_code == 400, data
            assert message in unescape(response.content.decode()), data
        no_confirm = op.post(reverse("reset_apply", args=["test", group]), {"scope": "all", "to": "earliest"})
        assert no_confirm.status_code == 400

    def test_hostile_group_id_with_slashes_is_escaped(self, kafka, broker, dashboard_cluster):
        topic = kafka.create_topic(partitions=1)
        kafka.produce(topic, 4, partition=0)
        group = f"team/<script>alert(1)</script>/{kafka.unique('g')}"
        kafka.commit(group, [(topic, 0, 2)])
        op = user_client("op", "operators")
        url = reverse("reset_offsets", args=["test", group])
        page = op.get(url)
        html = page.content.decode()
        assert page.status_code == 200 and "<script>alert(1)" not in html and "&lt;script&gt;" in html
        preview = op.post(reverse("reset_preview", args=["test", group]), {"scope": "all", "to": "latest"})
        html = preview.content.decode()
        assert preview.status_code == 200 and "<script>alert(1)" not in html
        applied = op.post(reverse("reset_apply", args=["test", group]), confirm_fields(html))
        assert applied.status_code == 200
        assert tool_offsets(broker, group) == {(topic, 0): 4}


# --- the CLI -------------------------------------------------------------------------------------------


class TestCommand:
    def run(self, *args: str) -> str:
        from io import StringIO

        out = StringIO()
        call_command("reset_offsets", *args, stdout=out, stderr=StringIO())
        return out.getvalue()

    def test_dry_run_changes_nothing_then_real_run(self, kafka, broker, dashboard_cluster):
        topic, group = make_group(kafka)
        out = self.run("--group", group, "--topic", f"{topic}:0,2", "--to-offset", "1", "--dry-run")
        lines = out.splitlines()
        assert lines[1].split() == list(HEADERS)
        assert lines[2].split() == [topic, "0", "5", "1", "5", "9", "-"]
        assert "dry run: nothing changed" in out
        assert set(tool_offsets(broker, group).values()) == {5}
        assert not AuditEntry.objects.filter(target=group).exists()
        out = self.run("--group", group, "--topic", f"{topic}:0,2", "--to-offset", "1", "--actor", "alice")
        assert "reset 2 partition(s)" in out and "verified 2 of 2 partitions (read back from Kafka)" in out
        assert tool_offsets(broker, group) == {(topic, 0): 1, (topic, 1): 5, (topic, 2): 1}
        entry = AuditEntry.objects.get(target=group)
        assert (entry.actor, entry.action, entry.count, entry.result) == ("alice", "offset-reset", 2, "done")
        self.run("--group", group, "--all-topics", "--shift-by", "-1")
        assert tool_offsets(broker, group) == {(topic, 0): 0, (topic, 1): 4, (topic, 2): 0}
        assert AuditEntry.objects.filter(target=group, actor="cli").count() == 1
        self.run("--group", group, "--all-topics", "--to-datetime", str(BASE_TS + 2000))
        assert set(tool_offsets(broker, group).values()) == {2}
        self.run("--group", group, "--topic", topic, "--to-latest")
        assert set(tool_offsets(broker, group).values()) == {10}
        out = self.run("--group", group, "--topic", topic, "--to-earliest")
        assert "verified 3 of 3 partitions" in out
        assert set(tool_offsets(broker, group).values()) == {0}

    def test_refused_with_exit_code_1_and_the_members(self, kafka, broker, dashboard_cluster):
        topic, group = make_group(kafka)
        with kafka.live_consumer(group, [topic], **{"client.id": "cli-live-client"}):
            with pytest.raises(CommandError) as info:
                self.run("--group", group, "--all-topics", "--to-earliest")
            assert info.value.returncode == 1
            assert "the group has 1 active member: cli-live-client on /127.0.0.1" in str(info.value)
            with pytest.raises(CommandError) as dry:
                self.run("--group", group, "--all-topics", "--to-earliest", "--dry-run")
            assert dry.value.returncode == 1
        assert set(tool_offsets(broker, group).values()) == {5}
        assert AuditEntry.objects.get(target=group).result == "refused"  # the attempt, not the dry run

    def test_bad_input_exit_code_2(self, kafka, dashboard_cluster):
        topic, group = make_group(kafka)
        cases = [
            (["--group", kafka.unique("nobody"), "--all-topics", "--to-earliest"], "does not exist"),
            (["--group", group, "--topic", "no-such-topic-z", "--to-earliest"], "does not exist"),
            (["--group", group, "--topic", f"{topic}:99", "--to-earliest"], "has no partition 99"),
            (["--group", group, "--all-topics", "--to-datetime", "soon"], "not a timestamp"),
            (["--group", group, "--all-topics", "--to-offset", "x1"], "the offset must be a whole number"),
        ]
        for args, message in cases:
            with pytest.raises(CommandError, match=message) as info:
                self.run(*args)
            assert info.value.returncode == 2
