"""A small Spring Kafka program (tests/integration/spring/SpringDeadLetterWriter.java) whose listener
fails on poison values, with Spring's DeadLetterPublishingRecoverer writing the dead letters.

Its classpath (spring-kafka of SPRING_KAFKA_VERSION and what it needs) is copied once per machine
by Maven into ~/.cache/kafka-dashboard/spring-kafka-<version>/libs, outside the clone, and the
program compiled there with javac (keyed by the source's hash); a lock keeps sessions apart.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.connect_standalone_support import cache_root, java

REPO = Path(__file__).resolve().parent.parent
SOURCE_DIR = REPO / "tests" / "integration" / "spring"
VERSION = os.environ.get("SPRING_KAFKA_VERSION", "4.1.2")


def built(version: str = VERSION) -> tuple[Path, Path]:
    """(libs folder, classes folder) of the writer, resolved and compiled on first use."""
    source = SOURCE_DIR / "SpringDeadLetterWriter.java"
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
    home = cache_root() / f"spring-kafka-{version}"
    libs, classes = home / "libs", home / f"classes-{digest}"
    if (home / ".complete").exists() and (classes / "SpringDeadLetterWriter.class").exists():
        return libs, classes
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (home / ".complete").exists():
            mvn = shutil.which("mvn")
            if mvn is None:
                raise RuntimeError("Maven (mvn) is needed to fetch Spring Kafka: apt-get install maven")
            tmp = home / "libs.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            command = [mvn, "-B", "-q", "-f", str(SOURCE_DIR / "pom.xml"), "dependency:copy-dependencies"]
            command += ["-DincludeScope=runtime", f"-DoutputDirectory={tmp}", f"-Dspring.kafka.version={version}"]
            done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"Maven could not resolve spring-kafka {version}: {done.stdout[-3000:]}")
            shutil.rmtree(libs, ignore_errors=True)
            tmp.rename(libs)
            (home / ".complete").write_text(version)
        if not (classes / "SpringDeadLetterWriter.class").exists():
            javac = shutil.which("javac")
            if javac is None:
                raise RuntimeError("a JDK (javac) is needed to build the Spring Kafka writer")
            tmp = home / f"{classes.name}.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            command = [javac, "-d", str(tmp), "-cp", f"{libs}/*", str(source)]
            done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"javac failed: {done.stderr[-3000:]}")
            tmp.rename(classes)
    return libs, classes


@contextmanager
def spring_writer(bootstrap: str, topic: str, group: str, log: Path) -> Iterator[subprocess.Popen]:
    """The writer consuming `topic` as `group` until the block ends (its stdin is closed then)."""
    libs, classes = built()
    command = [java(), "-cp", f"{classes}:{libs}/*", "SpringDeadLetterWriter", bootstrap, topic, group]
    with open(log, "w") as out:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
