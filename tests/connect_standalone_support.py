"""A real Kafka Connect standalone worker for the tests, its classpath resolved from Maven Central.

The jars (connect-runtime, connect-file, connect-json of KAFKA_VERSION, default the suite's broker
version) are copied once per machine by Maven into ~/.cache/kafka-dashboard/connect-<version>/libs
(KAFKA_DASHBOARD_CACHE moves the root), outside the clone, so clean clones reuse them; a lock keeps
two sessions from resolving at once. The worker is a child process with its own temporary files,
its REST listener on a port the OS picks, stopped (and waited for) by the context manager.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.java_builds import build_lock, cache_root

REPO = Path(__file__).resolve().parent.parent
POM = REPO / "tests" / "integration" / "connect" / "pom.xml"
VERSION = os.environ.get("KAFKA_VERSION", "4.3.1")


def connect_libs(version: str = VERSION) -> Path:
    """The folder of the worker's jars, resolved by Maven on first use (raises when it cannot be)."""
    home = cache_root() / f"connect-{version}"
    libs, complete = home / "libs", home / ".complete"
    if complete.exists() and any(libs.glob("connect-file-*.jar")):
        return libs
    home.mkdir(parents=True, exist_ok=True)
    with build_lock():
        if complete.exists() and any(libs.glob("connect-file-*.jar")):
            return libs
        mvn = shutil.which("mvn")
        if mvn is None:
            raise RuntimeError("Maven (mvn) is needed to fetch Kafka Connect: apt-get install maven")
        tmp = home / "libs.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        command = [mvn, "-B", "-q", "-f", str(POM), "dependency:copy-dependencies", "-DincludeScope=runtime"]
        command += [f"-DoutputDirectory={tmp}", f"-Dkafka.version={version}"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            raise RuntimeError(
                f"Maven could not resolve Kafka Connect {version}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
            )
        shutil.rmtree(libs, ignore_errors=True)
        tmp.rename(libs)
        complete.write_text(version)
    return libs


def java() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and Path(home, "bin", "java").exists():
        return str(Path(home, "bin", "java"))
    found = shutil.which("java")
    if found is None:
        raise RuntimeError("a Java 17+ runtime is needed for Kafka Connect")
    return found


def _properties(path: Path, values: dict[str, str]) -> Path:
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return path


@contextmanager
def standalone_worker(bootstrap: str, work: Path, connector: dict[str, str]) -> Iterator[subprocess.Popen]:
    """A ConnectStandalone worker running `connector` until the block ends."""
    libs = connect_libs()
    work.mkdir(parents=True, exist_ok=True)
    worker = _properties(
        work / "worker.properties",
        {
            "bootstrap.servers": bootstrap,
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "false",
            "offset.storage.file.filename": str(work / "offsets"),
            "offset.flush.interval.ms": "1000",
            "listeners": "http://127.0.0.1:0",  # a port the OS picks: other sessions share the machine
            "plugin.discovery": "only_scan",
        },
    )
    log4j = work / "log4j2.properties"
    log4j.write_text(
        "rootLogger.level = WARN\nrootLogger.appenderRef.file.ref = FILE\n"
        f"appender.file.type = File\nappender.file.name = FILE\nappender.file.fileName = {work / 'worker.log'}\n"
        "appender.file.layout.type = PatternLayout\nappender.file.layout.pattern = %d %p %c - %m%n\n"
    )
    config = _properties(work / "connector.properties", connector)
    command = [java(), f"-Dlog4j2.configurationFile={log4j}", "-cp", f"{libs}/*"]
    command += ["org.apache.kafka.connect.cli.ConnectStandalone", str(worker), str(config)]
    with open(work / "worker.out", "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def wait_for(condition, timeout: float, what: str, process: subprocess.Popen | None = None, log: Path | None = None):
    """Poll `condition` until it returns something truthy; fail with the worker's log if it died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process is not None and process.poll() is not None:
            tail = log.read_text()[-4000:] if log and log.exists() else ""
            raise AssertionError(f"the Connect worker exited ({process.returncode}) before {what}:\n{tail}")
        time.sleep(0.5)
    tail = log.read_text()[-4000:] if log and log.exists() else ""
    raise AssertionError(f"timed out waiting for {what}\n{tail}")
