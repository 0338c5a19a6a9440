"""The segfault of issue 17: `list_consumer_group_offsets` on a fresh broker, before anything created
`__consumer_offsets`, killed the calling process (exit 139, no traceback). In a supervised child it
kills the child only: this process goes on, the crash is recorded with its cause, and a new child
answers once the broker has its offsets topic."""

from __future__ import annotations

import time

import pytest

from kafka_admin.isolation.crash import Backoff
from kafka_admin.isolation.supervisor import OperationFailed, Supervisor, WorkerFailed, WorkerUnavailable
from tests.kafka_support import BrokerProcess

pytestmark = pytest.mark.broker


def test_an_offset_fetch_on_a_fresh_broker_ends_the_child_not_us(tmp_path):
    broker = BrokerProcess.start(tmp_path / "fresh-kafka")  # a throwaway broker: no __consumer_offsets yet
    supervisor = Supervisor(
        "offset fetch",
        "tests.unit.isolation_sessions:OffsetFetchSession",
        (broker.bootstrap,),
        Backoff(first=0.1, cap=1.0),
    )
    try:
        deadline = time.monotonic() + 90
        answer = None
        while answer is None and time.monotonic() < deadline:
            try:
                answer = supervisor.call("committed", "never-seen", answer_within_s=60)
            except WorkerUnavailable:
                time.sleep(0.1)  # the restart's back-off
            except (WorkerFailed, OperationFailed):
                pass  # crashed (recorded), or the coordinator not ready: ask again
        # librdkafka 2.16 on Kafka 4.3.1 segfaulted on the first call; record what this run saw.
        print(f"offset fetch on a fresh broker: {supervisor.health}")
        assert set(supervisor.health.restarts) <= {"SIGSEGV", "SIGABRT"}, supervisor.health
        assert answer == [], f"no answer within 90 s: {supervisor.health}"  # never-seen: nothing committed
        assert supervisor.pid is not None
    finally:
        supervisor.close()
        broker.down()
