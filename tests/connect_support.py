"""A real distributed Kafka Connect worker for the tests: the Connect runtime from the Kafka
distribution the suite already fetches (scripts/kafka.sh fetch), the FileStream connectors
(connect-file, Maven Central) as its plugin, in a cache folder outside the clone."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.java_builds import build_lock
from tests.kafka_support import KAFKA_SH, REPO, BrokerProcess, free_port

KAFKA_VERSION = "4.3.1"


def plugins_dir() -> Path:
    """connect-file-<version>.jar in ~/.cache/kafka-dashboard/connect-plugins-<version>/, fetched once."""
    out = Path(
        os.environ.get(
            "CONNECT_PLUGINS_CACHE", Path.home() / ".cache" / "kafka-dashboard" / f"connect-plugins-{KAFKA_VERSION}"
        )
    )
    if list(out.glob("connect-file-*.jar")):
        return out
    if shutil.which("mvn") is None:
        raise RuntimeError("mvn is needed to fetch the connect-file plugin from Maven Central")
    with build_lock():
        if list(out.glob("connect-file-*.jar")):
            return out
        subprocess.run(
            [
                "mvn",
                "-B",
                "-q",
                "dependency:copy",
                f"-Dartifact=org.apache.kafka:connect-file:{KAFKA_VERSION}",
                f"-DoutputDirectory={out}",
            ],
            check=True,
            capture_output=True,
            timeout=600,
        )
    return out


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


@dataclass
class Worker:
    rest: str
    group: str


@contextmanager
def connect_worker(broker: BrokerProcess, workdir: Path, group: str) -> Iterator[Worker]:
    libs = (
        subprocess.run(
            ["bash", str(KAFKA_SH), "fetch"], env=broker.env(), capture_output=True, text=True, check=True, timeout=900
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    port = free_port()
    props = workdir / "worker.properties"
    props.write_text(
        "\n".join(
            [
                f"bootstrap.servers={broker.bootstrap}",
                f"group.id={group}",
                "key.converter=org.apache.kafka.connect.json.JsonConverter",
                "value.converter=org.apache.kafka.connect.json.JsonConverter",
                *(f"{kind}.storage.topic={group}-{kind}" for kind in ("offset", "config", "status")),
                *(f"{kind}.storage.replication.factor=1" for kind in ("offset", "config", "status")),
                "offset.storage.partitions=1",
                "status.storage.partitions=1",
                f"listeners=http://127.0.0.1:{port}",
                f"plugin.path={plugins_dir()}",
            ]
        )
        + "\n"
    )
    log = open(workdir / "connect.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            "java",
            "-Xmx256m",
            f"-Dlog4j2.configurationFile={REPO / 'scripts' / 'kafka' / 'tools-log4j2.properties'}",
            "-cp",
            f"{libs}/*",
            "org.apache.kafka.connect.cli.ConnectDistributed",
            str(props),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    rest = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                get_json(rest + "/connectors")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "Connect worker did not start: " + (workdir / "connect.log").read_text()[-3000:]
                    ) from None
                time.sleep(0.5)
        yield Worker(rest, group)
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


def create_file_source(worker: Worker, name: str, path: Path, topic: str, tasks: int = 1) -> None:
    body = json.dumps(
        {
            "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
            "file": str(path),
            "topic": topic,
            "tasks.max": str(tasks),
        }
    ).encode()
    request = urllib.request.Request(
        f"{worker.rest}/connectors/{name}/config", data=body, method="PUT", headers={"Content-Type": "application/json"}
    )
    urllib.request.urlopen(request, timeout=30).read()
