"""A throwaway PostgreSQL server for tests and benchmarks: Debian's postgresql binaries, a data
directory of its own, a free port on 127.0.0.1, trust authentication; stopped and gone afterwards.

PostgreSQL refuses to run as root, so as root (CI) the server runs as the `postgres` user that
Debian's package creates, in a directory that user owns.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
from pathlib import Path

from tests.kafka_support import free_port

USER = "dashboard"
DATABASE = "dashboard"


def bin_dir() -> Path | None:
    """Where initdb and pg_ctl are: on the PATH, else Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(versions[-1]).parent if versions else None


class PostgresServer:
    def __init__(self, directory: Path) -> None:
        binaries = bin_dir()
        if binaries is None:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        self.bin = binaries
        self.directory = directory
        self.data = directory / "data"
        self.port = free_port()
        self.run_as = "postgres" if os.geteuid() == 0 else None

    @property
    def env(self) -> dict[str, str]:
        """The dashboard's settings for this server (config/settings.py reads POSTGRES_*)."""
        return {
            "POSTGRES_DB": DATABASE,
            "POSTGRES_USER": USER,
            "POSTGRES_PASSWORD": "",
            "POSTGRES_HOST": "127.0.0.1",
            "POSTGRES_PORT": str(self.port),
        }

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {(done.stderr or done.stdout)[-2000:]}")

    def start(self) -> PostgresServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.run_as:
            owner = pwd.getpwnam(self.run_as)
            for path in self.directory.parents:  # let the server's user reach its directory
                mode = os.stat(path).st_mode
                if not mode & 0o001:
                    os.chmod(path, mode | 0o001)
            os.chown(self.directory, owner.pw_uid, owner.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", USER, "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.directory / "server.log"), "-w", "start"
        )
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, DATABASE)
        return self

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)
