"""The collector's supervision (kafka_admin.isolation): crash causes, back-off, and a real spawned child
that dies the ways librdkafka kills a process (abort() after an assertion, SIGSEGV, SIGKILL, a hang)."""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
from datetime import UTC, datetime

import pytest

from kafka_admin.isolation.crash import HUNG, Backoff, Crash, Health, cause_of, detail_of
from kafka_admin.isolation.supervisor import OperationFailed, Supervisor, WorkerFailed, WorkerUnavailable

SESSION = "tests.unit.isolation_sessions:DyingSession"
ASSERTION = "rd_kafka_enq_once_del_source_return: Assertion `eonce->refcnt > 0' failed."


class TestCauses:
    def test_signals_are_named(self):
        assert cause_of(-signal.SIGABRT) == "SIGABRT"
        assert cause_of(-signal.SIGSEGV) == "SIGSEGV"
        assert cause_of(-signal.SIGKILL) == "SIGKILL"

    def test_exit_codes_and_unknown(self):
        assert cause_of(1) == "exit 1"
        assert cause_of(None) == "unknown"

    def test_the_assertion_wins_over_what_faulthandler_prints_after_it(self):
        tail = f"noise\npython3: rdkafka_queue.h:1132: {ASSERTION}\nFatal Python error: Aborted\n\nCurrent thread"
        assert detail_of(tail) == f"python3: rdkafka_queue.h:1132: {ASSERTION}"

    def test_faulthandler_then_an_exception_then_nothing(self):
        assert detail_of("x\nFatal Python error: Segmentation fault\n") == "Fatal Python error: Segmentation fault"
        assert detail_of("Traceback...\nValueError: bad\n") == "ValueError: bad"
        assert detail_of("%4|1700000000.000|REQTMOUT|rdkafka#producer-1| timed out\n") is None

    def test_health_counts_by_cause(self):
        at = datetime.now(UTC)
        health = Health().with_crash(Crash(at, "SIGABRT")).with_crash(Crash(at, "SIGABRT")).with_crash(Crash(at, HUNG))
        assert health.restarts == {"SIGABRT": 2, HUNG: 1} and health.total == 3 and health.last.cause == HUNG


class TestBackoff:
    def test_doubles_to_the_cap(self):
        backoff = Backoff(first=1, cap=30, healthy_s=60)
        assert [backoff.after_crash(0.5) for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]

    def test_resets_after_a_healthy_life(self):
        backoff = Backoff(first=1, cap=30, healthy_s=60)
        backoff.after_crash(1), backoff.after_crash(1), backoff.after_crash(1)
        assert backoff.after_crash(61) == 1 and backoff.after_crash(1) == 2


@pytest.fixture
def supervisor():
    sup = Supervisor("test child", SESSION, ("t",), backoff=Backoff(first=0.2, cap=0.4), forward_stderr=False)
    yield sup
    sup.close()


def answer(sup: Supervisor, value: object = "ping", within: float = 15) -> tuple[str, int, object]:
    """The child's answer, waiting out a restart's back-off (never a fixed sleep)."""
    deadline = time.monotonic() + within
    while True:
        try:
            return sup.call("echo", value, answer_within_s=within)
        except WorkerUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class TestSupervisor:
    def test_answers_from_another_process_and_keeps_it(self, supervisor):
        tag, pid, value = answer(supervisor, {"a": [1, 2]})
        assert (tag, value) == ("t", {"a": [1, 2]}) and pid != os.getpid() and pid == supervisor.pid
        assert answer(supervisor)[1] == pid  # one child for many calls

    def test_an_abort_after_librdkafka_assertion_is_survived_and_named(self, supervisor):
        first = answer(supervisor)[1]
        with pytest.raises(WorkerFailed):
            supervisor.call("assert_and_abort", answer_within_s=15)
        crash = supervisor.health.last
        assert crash.cause == "SIGABRT" and ASSERTION in crash.detail
        assert supervisor.health.restarts == {"SIGABRT": 1}
        assert answer(supervisor)[1] != first  # a new child answers

    def test_a_segfault_is_survived(self, supervisor):
        with pytest.raises(WorkerFailed):
            supervisor.call("segfault", answer_within_s=15)
        assert supervisor.health.last.cause == "SIGSEGV"
        assert "Segmentation fault" in supervisor.health.last.detail
        answer(supervisor)

    @pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGABRT])
    def test_a_child_killed_between_calls_is_counted_and_restarted(self, supervisor, sig):
        pid = answer(supervisor)[1]
        os.kill(pid, sig)
        with pytest.raises(WorkerFailed):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:  # the next call finds it dead (at once, or once it has died)
                supervisor.call("echo", 1, answer_within_s=15)
                time.sleep(0.05)
        assert supervisor.health.restarts == {signal.Signals(sig).name: 1}
        assert answer(supervisor)[1] != pid

    def test_a_hung_child_is_killed_within_the_timeout_and_restarted(self, supervisor):
        pid = answer(supervisor)[1]
        started = time.monotonic()
        with pytest.raises(WorkerFailed):
            supervisor.call("hang", 60, answer_within_s=0.5)
        assert time.monotonic() - started < 10
        assert supervisor.health.last.cause == HUNG and "within 0.5 s" in supervisor.health.last.detail
        with pytest.raises(OSError):
            os.kill(pid, 0)  # gone (reaped)
        answer(supervisor)

    def test_during_the_back_off_a_call_fails_at_once(self, supervisor):
        answer(supervisor)
        with pytest.raises(WorkerFailed):
            supervisor.call("assert_and_abort", answer_within_s=15)
        started = time.monotonic()
        with pytest.raises(WorkerUnavailable, match=r"restarting in .* after SIGABRT"):
            supervisor.call("echo", 1, answer_within_s=15)
        assert time.monotonic() - started < 0.2

    def test_errors_of_an_operation_leave_the_child_alive(self, supervisor):
        pid = answer(supervisor)[1]
        with pytest.raises(OperationFailed, match="ValueError: no such thing"):
            supervisor.call("fail", answer_within_s=15)
        with pytest.raises(OperationFailed, match="could not be sent"):
            supervisor.call("unpicklable", answer_within_s=15)
        with pytest.raises(OperationFailed, match="not an operation"):
            supervisor.call("__init__", answer_within_s=15)
        assert answer(supervisor)[1] == pid and supervisor.health.total == 0

    def test_another_thread_of_the_parent_keeps_running_through_every_crash(self, supervisor):
        """The server's threads go on: the crashes are the child's alone."""
        ticks: list[float] = []
        stop = threading.Event()

        def serve() -> None:
            while not stop.is_set():
                ticks.append(time.monotonic())
                time.sleep(0.01)

        server = threading.Thread(target=serve)
        server.start()
        try:
            for operation in ("assert_and_abort", "segfault", "assert_and_abort"):
                answer(supervisor)
                with pytest.raises(WorkerFailed):
                    supervisor.call(operation, answer_within_s=15)
            before = len(ticks)
            answer(supervisor)
            time.sleep(0.05)  # lets the ticker tick: the measure here, not a wait for a condition
            assert len(ticks) > before and server.is_alive()
        finally:
            stop.set()
            server.join()
        assert supervisor.health.restarts == {"SIGABRT": 2, "SIGSEGV": 1}
        assert max(b - a for a, b in itertools.pairwise(ticks)) < 2.0  # never stalled by a crash

    def test_close_stops_the_child(self, supervisor):
        pid = answer(supervisor)[1]
        supervisor.close()
        with pytest.raises(OSError):
            os.kill(pid, 0)


class TestOneShot:
    def test_a_kafka_admin_function_runs_in_a_child_and_its_exception_comes_back(self):
        from kafka_admin.isolation.oneshot import run_in_child
        from kafka_admin.offset_reset import InvalidReset

        spec = run_in_child("kafka_admin.offset_reset:parse_spec", "shift", "-5", role="test", within_s=30)
        assert (spec.to, spec.value) == ("shift", -5)
        with pytest.raises(InvalidReset):
            run_in_child("kafka_admin.offset_reset:parse_spec", "shift", "many", role="test", within_s=30)

    def test_only_kafka_admin_functions(self):
        from kafka_admin.isolation.oneshot import run_in_child

        with pytest.raises(ValueError, match="not a kafka_admin function"):
            run_in_child("os:abort", role="test", within_s=30)

    def test_a_pool_child_killed_is_replaced(self):
        from kafka_admin.isolation.oneshot import WorkerPool

        pool = WorkerPool("test reader", size=1)
        parse = "kafka_admin.offset_reset:parse_spec"
        assert pool.call(parse, "latest", within_s=30).to == "latest"
        (pid,) = pool.pids
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while True:  # the death is noticed by the next call, then the back-off; then a new child answers
            try:
                assert pool.call(parse, "earliest", within_s=30).to == "earliest"
                break
            except WorkerFailed:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert pool.pids and pool.pids != [pid]


def test_the_hand_off_pickles_a_snapshot_back_to_an_equal_one():
    import pickle
    from multiprocessing.reduction import ForkingPickler

    from kafka_admin.isolation.handoff import register_dataclasses
    from kafka_admin.snapshot import model as m

    offsets = tuple(m.PartitionOffsets("t", p, 5, 10 if p else None, 5 if p else None) for p in range(3))
    member = m.Member("m1", "c1", "/h", (m.TopicPartitionRef("t", 0),))
    snapshot = m.ClusterSnapshot(
        cluster="c",
        collected_at=datetime.now(UTC),
        duration_ms=1.5,
        requests=3,
        reachable=True,
        cluster_id="id",
        controller_id=1,
        brokers=(m.Broker(1, "h", 9092, None),),
        topics=(m.Topic("t", False, tuple(m.PartitionInfo(p, 1, (1,), (1,), 0, 10) for p in range(3))),),
        groups=(m.Group("g", "Stable", "classic", 1, "range", (member,), offsets),),
        errors=(m.SnapshotError("group", "x", "boom"),),
    )
    register_dataclasses(m)
    assert pickle.loads(bytes(ForkingPickler.dumps(snapshot))) == snapshot
