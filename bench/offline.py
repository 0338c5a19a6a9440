"""Settings for a bench that runs the dashboard's code without a broker: a throwaway database and
var folder, a bootstrap address nothing answers on, no poller (bench_scale_downstream.py and
bench_history_record.py). Import before Django is set up."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def offline_settings(prefix: str) -> Path:
    """Set the environment (and sys.path) for django.setup(); returns the throwaway folder."""
    for path in (REPO, REPO / "bench"):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SQLITE_PATH": str(tmp / "db.sqlite3"),
            "DASHBOARD_VAR_DIR": str(tmp),
            "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
            "KAFKA_CLUSTER_NAME": "bench",
            "POLLER_IN_PROCESS": "false",
        }
    )
    return tmp
