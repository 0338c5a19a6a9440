"""Share groups in tests: a real share consumer in a child process, the group's configs."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, ResourceType

from tests.kafka_support import REPO, end_by_stdin


def set_group_configs(bootstrap: str, group: str, **configs: str) -> None:
    """Group configs (share.auto.offset.reset, share.delivery.count.limit, ...) before it starts."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    entries = [
        ConfigEntry(k.replace("_", "."), v, incremental_operation=AlterConfigOpType.SET) for k, v in configs.items()
    ]
    resource = ConfigResource(ResourceType.GROUP, group, incremental_configs=entries)
    admin.incremental_alter_configs([resource])[resource].result(timeout=30)


@contextmanager
def share_worker(
    bootstrap: str, group: str, topic: str, count: int, reject_every: int = 0, release_every: int = 0
) -> Iterator[subprocess.Popen]:
    """A share consumer (tests/integration/share_worker.py) that has acknowledged `count` records
    and stays in the group until the block ends."""
    args = [sys.executable, "-m", "tests.integration.share_worker", bootstrap, group, topic, str(count)]
    args += [str(reject_every), str(release_every)]
    proc = subprocess.Popen(
        args, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line.startswith("acked"):
            proc.kill()
            _, err = proc.communicate(timeout=30)
            raise RuntimeError(f"share worker ended early ({proc.returncode}): {line} {err[-2000:]}")
        yield proc
    finally:
        end_by_stdin(proc, 30)
