"""Which failures mean the cluster went away mid-cycle (the snapshot is then "unreachable", and the
last good data stays on screen) and which mean a broker answered no."""

from __future__ import annotations

from confluent_kafka import KafkaError, KafkaException

from kafka_admin.snapshot.collect import no_broker_answered


def test_transport_time_out_and_all_brokers_down_mean_gone():
    for code in (KafkaError._TRANSPORT, KafkaError._TIMED_OUT, KafkaError._ALL_BROKERS_DOWN):
        assert no_broker_answered(KafkaException(KafkaError(code)))


def test_refusals_and_other_errors_do_not():
    for code in (
        KafkaError.TOPIC_AUTHORIZATION_FAILED,
        KafkaError.UNKNOWN_TOPIC_OR_PART,
        KafkaError.NOT_LEADER_FOR_PARTITION,
    ):
        assert not no_broker_answered(KafkaException(KafkaError(code)))
    assert not no_broker_answered(RuntimeError("x")) and not no_broker_answered(KafkaException())
