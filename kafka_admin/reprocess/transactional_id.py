"""The transactional.id shared by every run of one DLQ topic: what lets a new run fence an old one."""

from __future__ import annotations

import hashlib
import re

TRANSACTIONAL_ID_PREFIX = "kafka-dashboard-reprocess"


def transactional_id_for(cluster_name: str, dlq_topic: str) -> str:
    """The transactional.id of every reprocess of one DLQ topic: the same for every run, so that a
    new run fences a crashed (or still running) one. Characters outside [A-Za-z0-9._-] become "_",
    and then a hash of the exact names keeps different clusters apart; at most 200 characters."""
    raw = f"{TRANSACTIONAL_ID_PREFIX}.{cluster_name}.{dlq_topic}"
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", raw)
    if safe == raw and len(safe) <= 200:
        return safe
    digest = hashlib.sha256(f"{cluster_name}\0{dlq_topic}".encode()).hexdigest()[:12]
    return f"{safe[:187]}.{digest}"
