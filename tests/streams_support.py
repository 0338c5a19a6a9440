"""Real Kafka Streams applications for the tests (tests/streams_app), built once into a cache
folder outside the clone: their jars from Maven Central (mvn), the sources compiled with javac.
LagApp copies its input slowly; DlqApp sends what its processor fails on to its KIP-1034 DLQ.

The folder is $STREAMS_APP_CACHE, else ~/.cache/kafka-dashboard/streams-app-<Kafka version>; a
build is reused while the sources and pom.xml are unchanged (their hash names the build).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.java_builds import build_lock
from tests.kafka_support import REPO, end_by_stdin

APP = REPO / "tests" / "streams_app"
SOURCES = APP / "src" / "main" / "java" / "dashboard" / "test"
KAFKA_VERSION = "4.3.1"


def cache_dir() -> Path:
    base = os.environ.get("STREAMS_APP_CACHE")
    return Path(base) if base else Path.home() / ".cache" / "kafka-dashboard" / f"streams-app-{KAFKA_VERSION}"


def build() -> Path:
    """The build folder (classes/ and libs/), built if missing; RuntimeError saying what is missing."""
    for tool in ("mvn", "javac", "java"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is needed to build the Kafka Streams test application")
    sources = sorted(SOURCES.glob("*.java"))
    digest = hashlib.sha256(b"".join(s.read_bytes() for s in sources) + (APP / "pom.xml").read_bytes()).hexdigest()
    out = cache_dir() / digest[:12]
    if (out / "classes" / ".complete").exists():
        return out
    with build_lock():
        if (out / "classes" / ".complete").exists():
            return out
        libs = out / "libs"
        subprocess.run(
            [
                "mvn",
                "-B",
                "-q",
                "-f",
                str(APP / "pom.xml"),
                "dependency:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={libs}",
            ],
            check=True,
            capture_output=True,
            timeout=900,
        )
        subprocess.run(
            ["javac", "-cp", f"{libs}/*", "-d", str(out / "classes"), *map(str, sources)],
            check=True,
            capture_output=True,
            timeout=300,
        )
        (out / "classes" / ".complete").write_text(digest)
    return out


@contextmanager
def streams_app(bootstrap: str, app_id: str, source: str, sink: str, pause_ms: int) -> Iterator[subprocess.Popen]:
    """LagApp running (it printed RUNNING) until the block ends, copying one record per `pause_ms`."""
    with running("LagApp", bootstrap, app_id, source, sink, str(pause_ms)) as proc:
        yield proc


@contextmanager
def dlq_app(bootstrap: str, app_id: str, source: str, sink: str, dlq: str) -> Iterator[subprocess.Popen]:
    """DlqApp running until the block ends: `source` to `sink`, its failures to the DLQ `dlq`."""
    with running("DlqApp", bootstrap, app_id, source, sink, dlq) as proc:
        yield proc


@contextmanager
def running(app: str, *arguments: str) -> Iterator[subprocess.Popen]:
    """dashboard.test.`app` running (it printed RUNNING) until the block ends (stdin is closed then)."""
    built = build()
    proc = subprocess.Popen(
        ["java", "-Xmx256m", "-cp", f"{built / 'classes'}:{built / 'libs'}/*", f"dashboard.test.{app}", *arguments],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        for line in proc.stdout or ():
            lines.append(line)
            if line.strip() == "RUNNING":
                break
        else:
            raise RuntimeError(f"the streams app ended early: {''.join(lines)[-2000:]}")
        yield proc
    finally:
        end_by_stdin(proc, 60)
