"""Migration 0005: ledger entries written per record before it keep every answer after it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from dashboard.dlq.ledger import DbLedger

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE, AFTER = ("dashboard", "0004_alerts"), ("dashboard", "0005_reprocess_batches")
T = "orders-dlq"


def migrate(target: tuple[str, str] | None = None):
    """Migrate the test database to `target` (None: the latest migration); its models' state there."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    if target is None:
        [target] = executor.loader.graph.leaf_nodes("dashboard")
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


def test_per_record_entries_become_batches_with_the_same_answers() -> None:
    old = migrate(BEFORE).get_model("dashboard", "ReprocessEntry")
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    rows = [(o, "run-a", "confirmed", "alice", False) for o in range(0, 5)]
    rows += [(o, "run-b", "pending", "bob", True) for o in (7, 9)]
    rows += [(o, "run-b", "abandoned", "bob", True) for o in (8,)]
    for offset, run, state, actor, forced in rows:
        old.objects.create(
            cluster="c1",
            dlq_topic=T,
            partition=0,
            offset=offset,
            run_id=run,
            target_topic="orders",
            target_partition=2,
            target_offset=100 + offset,
            state=state,
            actor=actor,
            forced=forced,
            confirmed_at=at if state == "confirmed" else None,
        )
    try:
        apps = migrate(AFTER)
        Batch = apps.get_model("dashboard", "ReprocessBatch")
        batches = {
            (b.run_id, b.state): (b.first_offset, b.last_offset, b.actor, b.forced, b.confirmed_at)
            for b in Batch.objects.all()
        }
        assert batches == {
            ("run-a", "confirmed"): (0, 4, "alice", False, at),
            ("run-b", "pending"): (7, 9, "bob", True, None),
            ("run-b", "abandoned"): (8, 8, "bob", True, None),
        }
        migrate()  # DbLedger works on the latest schema
        ledger = DbLedger("c1", T)
        assert ledger.done([(T, 0, o) for o in range(10)]) == {(T, 0, o) for o in range(5)}
        assert sorted((e.key[2], e.target_offset, e.run_id) for e in ledger.pending()) == [
            (7, 107, "run-b"),
            (9, 109, "run-b"),
        ]
    finally:
        migrate()
