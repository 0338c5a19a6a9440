"""Migration 0007: indexed DLQ records get a failure class (their exception class until the index
reads them again), a stage and a convention ("" = not read since); and it goes back."""

from __future__ import annotations

import pytest

from tests.unit.test_migration_reprocess_batches import migrate

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE, AFTER = ("dashboard", "0006_reprocess_packed"), ("dashboard", "0007_dlq_failure_class")
WRAPPER = "org.springframework.kafka.listener.ListenerExecutionFailedException"


def test_backfill_starts_from_the_exception_class_and_marks_rows_unread_and_back() -> None:
    old = migrate(BEFORE).get_model("dashboard", "DlqRecord")
    old.objects.create(cluster="c1", topic="orders-dlq", partition=0, offset=1, exception_class=WRAPPER)
    old.objects.create(cluster="c1", topic="orders-dlq", partition=0, offset=2)
    try:
        new = migrate(AFTER).get_model("dashboard", "DlqRecord")
        rows = set(new.objects.values_list("offset", "failure_class", "stage", "convention"))
        assert rows == {(1, WRAPPER, "", ""), (2, "", "", "")}
        back = migrate(BEFORE).get_model("dashboard", "DlqRecord")
        assert set(back.objects.values_list("offset", "exception_class")) == {(1, WRAPPER), (2, "")}
        assert "failure_class" not in {f.name for f in back._meta.get_fields()}
    finally:
        migrate()
