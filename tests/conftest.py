"""Session fixtures: one real Kafka broker for the whole run (or KAFKA_BOOTSTRAP_SERVERS when set)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.kafka_support import BrokerProcess, Kafka


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    external = os.environ.get("TEST_KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield BrokerProcess(external)
        return
    proc = BrokerProcess.start(tmp_path_factory.mktemp("kafka"))
    try:
        yield proc
    finally:
        proc.down()


@pytest.fixture(scope="session")
def kafka(broker: BrokerProcess) -> Kafka:
    return Kafka(broker)
