"""Small Spring Kafka programs (tests/integration/spring/*.java) whose listeners fail on poison values:
SpringDeadLetterWriter (Spring's DeadLetterPublishingRecoverer behind a DefaultErrorHandler) and
SpringRetryChainWriter (an application's @RetryableTopic: retry topics, then the DLT).

Its classpath (spring-kafka of SPRING_KAFKA_VERSION and what it needs) is copied once per machine
by Maven into ~/.cache/kafka-dashboard/spring-kafka-<version>/libs, outside the clone, and the
program compiled there with javac (keyed by the source's hash); a lock keeps sessions apart.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.connect_standalone_support import java
from tests.java_builds import build_lock, cache_root
from tests.kafka_support import end_by_stdin

REPO = Path(__file__).resolve().parent.parent
SOURCE_DIR = REPO / "tests" / "integration" / "spring"
VERSION = os.environ.get("SPRING_KAFKA_VERSION", "4.1.2")


def built(version: str = VERSION, program: str = "SpringDeadLetterWriter") -> tuple[Path, Path]:
    """(libs folder, classes folder) of one writer for one spring-kafka version, resolved and compiled
    on first use (one program at a time: @RetryableTopic's annotations changed in 4.0)."""
    sources = [SOURCE_DIR / f"{program}.java"]
    digest = hashlib.sha256(b"".join(s.read_bytes() for s in sources)).hexdigest()[:12]
    home = cache_root() / f"spring-kafka-{version}"
    libs, classes = home / "libs", home / f"classes-{program}-{digest}"
    if (home / ".complete").exists() and (classes / ".complete").exists():
        return libs, classes
    home.mkdir(parents=True, exist_ok=True)
    with build_lock():
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
        if not (classes / ".complete").exists():
            javac = shutil.which("javac")
            if javac is None:
                raise RuntimeError("a JDK (javac) is needed to build the Spring Kafka writer")
            tmp = home / f"{classes.name}.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            command = [javac, "-parameters", "-d", str(tmp), "-cp", f"{libs}/*", *map(str, sources)]
            done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"javac failed: {done.stderr[-3000:]}")
            (tmp / ".complete").write_text(digest)
            shutil.rmtree(classes, ignore_errors=True)
            tmp.rename(classes)
    return libs, classes


@contextmanager
def spring_writer(
    bootstrap: str, topic: str, group: str, log: Path, dlq: str | None = None, version: str = VERSION
) -> Iterator[subprocess.Popen]:
    """The DeadLetterPublishingRecoverer writer of spring-kafka `version` consuming `topic` as `group`
    until the block ends; with `dlq`, a custom destination resolver sends the dead letters to its
    partition 0."""
    arguments = [bootstrap, topic, group, *([dlq] if dlq else [])]
    with spring_program(version, "SpringDeadLetterWriter", arguments, log) as process:
        yield process


@contextmanager
def retry_chain_writer(bootstrap: str, topic: str, group: str, log: Path) -> Iterator[subprocess.Popen]:
    """The @RetryableTopic application consuming `topic` as `group` (its retry topics and DLT are
    `topic`-retry-200, `topic`-retry-20000 and `topic`-dlt, made by the caller)."""
    props = [f"-Dchain.bootstrap={bootstrap}", f"-Dchain.topic={topic}", f"-Dchain.group={group}"]
    with spring_program(VERSION, "SpringRetryChainWriter", [], log, props) as process:
        yield process


@contextmanager
def spring_program(
    version: str, program: str, arguments: list[str], log: Path, properties: Sequence[str] = ()
) -> Iterator[subprocess.Popen]:
    """java running one of the programs until the block ends (its stdin is closed then)."""
    libs, classes = built(version, program)
    command = [java(), "-Xmx256m", *properties, "-cp", f"{classes}:{libs}/*", program, *arguments]
    with open(log, "w") as out:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        end_by_stdin(process, 30)
