"""A real Kafka Streams application for the tests (tests/streams_app), built once into a cache
folder outside the clone: its jars from Maven Central (mvn), LagApp.java compiled with javac.

The folder is $STREAMS_APP_CACHE, else ~/.cache/kafka-dashboard/streams-app-<Kafka version>; a
build is reused while LagApp.java and pom.xml are unchanged (their hash names the build).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.kafka_support import REPO

APP = REPO / "tests" / "streams_app"
SOURCE = APP / "src" / "main" / "java" / "dashboard" / "test" / "LagApp.java"
KAFKA_VERSION = "4.3.1"


def cache_dir() -> Path:
    base = os.environ.get("STREAMS_APP_CACHE")
    return Path(base) if base else Path.home() / ".cache" / "kafka-dashboard" / f"streams-app-{KAFKA_VERSION}"


def build() -> Path:
    """The build folder (classes/ and libs/), built if missing; RuntimeError saying what is missing."""
    for tool in ("mvn", "javac", "java"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is needed to build the Kafka Streams test application")
    digest = hashlib.sha256(SOURCE.read_bytes() + (APP / "pom.xml").read_bytes()).hexdigest()[:12]
    out = cache_dir() / digest
    if (out / "classes" / "dashboard" / "test" / "LagApp.class").exists():
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
        ["javac", "-cp", f"{libs}/*", "-d", str(out / "classes"), str(SOURCE)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out


@contextmanager
def streams_app(bootstrap: str, app_id: str, source: str, sink: str, pause_ms: int) -> Iterator[subprocess.Popen]:
    """LagApp running (it printed RUNNING) until the block ends, copying one record per `pause_ms`."""
    built = build()
    proc = subprocess.Popen(
        [
            "java",
            "-Xmx256m",
            "-cp",
            f"{built / 'classes'}:{built / 'libs'}/*",
            "dashboard.test.LagApp",
            bootstrap,
            app_id,
            source,
            sink,
            str(pause_ms),
        ],
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
        if proc.poll() is None:
            if proc.stdin:
                proc.stdin.close()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
