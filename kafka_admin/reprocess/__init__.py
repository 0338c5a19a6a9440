"""Re-publish dead-letter records to their original topic: exactly once, and safe against crashes.

How a run works (``reprocess``):

1. One transactional producer per DLQ topic (``transactional_id_for``): ``init_transactions()``
   fences any earlier producer with that id (a crashed or still-running run) and aborts its open
   transaction. Then ``recover`` settles the ledger's pending entries (below).
2. The selection is read from the DLQ with ``read_committed`` (records of an aborted DLQ write are
   never re-published) by one consumer for the whole run, assigned once per span of offsets, a
   page of ``batch_size`` records (at most ``PAGE_BYTES``) at a time; the next page is read and
   classified while a transaction's records are on their way to the broker. Keys and values are
   kept cut to ``VIEW_BYTES``, which is also exactly what the ``accept`` filter and the plan see;
   records that will be sent and were cut are read again whole, at most ``BATCH_BYTES`` at a time,
   so memory stays bounded whatever the record sizes.
3. Per record: the filter, the ledger (already reprocessed or resolved: skipped), the target
   (``targets``; none: skipped as unmapped), whether the target topic exists (never created
   here), and whether the record fits the target's ``max.message.bytes`` (else it fails alone,
   with a message, and the rest goes on). A record whose header names are not UTF-8 cannot be
   re-published byte-exact: it fails alone too.
4. Per transaction (at most ``batch_size`` records and ``BATCH_BYTES``): begin; produce key, value
   and ``republish_headers(...)`` byte-exact; flush; ``ledger.record_pending`` with the offsets the
   delivery reports gave; with ``range_group``, the group's offset for the DLQ partition joins the
   transaction; commit; ``ledger.confirm``. The ledger is called once per page (``done``) and
   twice per transaction, never per record.

Why this is exactly once: a record reaches the original topic (for read_committed readers) only
in a committed transaction, and the ledger knows every record whose transaction may have
committed: either confirmed, or pending with its target offset. A crash before ``record_pending``
leaves an open transaction that the next run's ``init_transactions()`` aborts; a crash after it
leaves pending entries that ``recover`` settles by looking at the target offset with a
read_committed consumer: the record is there (committed: confirm) or not (aborted: abandon, and
the record is sent again). An entry that cannot be settled yet (the target's last stable offset
has not passed it, or it was deleted) stays pending, and its record is not sent by this run.

Choices:

- ``force`` re-sends records this engine reprocessed before (listed in ``forced_keys``) but never
  records a person marked *resolved* (handled without re-publishing: re-sending one could put a
  known poison record back); to send such a record, un-resolve it first.
- The partition in the original topic is the one the record's own failure headers name (Spring's
  original partition, Connect's ``__connect.errors.partition``, ...) when the topic still has it;
  otherwise (no such header, routed by mapping or name, or a partition the topic no longer has)
  the producer's partitioner chooses from the key, as the original producer would. The default
  ``murmur2_random`` is the Java client's (Spring's) partitioner; librdkafka-based producers use
  ``consistent_random``: pass ``partitioner`` to match them.
- The timestamp is the time of re-publishing (the original one may lie beyond the topic's
  retention, which would delete the record right away); the original time stays in the DLQ.
- An abortable transaction error is retried once (without the records the broker refused one by
  one, which fail); if the batch fails again, the run stops (with ``range_group`` the group's
  offset must not pass records that were not sent). Fenced or other fatal errors stop the run at
  once; records whose outcome is unknown stay pending for the next run to settle.
- Two runs of one DLQ topic share the transactional.id: the later one fences the earlier, which
  stops with an error saying so; nothing is sent twice either way.
- With ``rate_limit`` a transaction holds at most ``RATE_LIMITED_TRANSACTION_S`` of records, well
  inside the transaction timeout.
- ``stop`` ends the run after the records produced so far are committed.

Nothing here imports Django: the database ledger implements ``Ledger``.

Modules: ``run`` (``reprocess``: the page loop) and ``transaction`` (one batch, one transaction);
``reading`` (the DLQ reader) and ``scan`` (a selection in pages); ``classify`` (per-record
decisions), ``topics`` (target topics), ``sizing``, ``republish`` (the headers added); ``sender``
(the transactional producer); ``recovery`` (``recover``, settling earlier runs); ``dry_run``
(``plan``); ``selection``, ``ledger``, ``reports``, ``errors``, ``limits``, ``transactional_id``,
``gc_threshold``.
"""

from kafka_admin.reprocess.classify import Accept, Targets
from kafka_admin.reprocess.dry_run import plan
from kafka_admin.reprocess.errors import MAX_ERRORS
from kafka_admin.reprocess.ledger import Ledger, MemoryLedger, PendingEntry, RecordKey, Status
from kafka_admin.reprocess.limits import (
    BATCH_BYTES,
    DEFAULT_BATCH_SIZE,
    PAGE_BYTES,
    RATE_LIMITED_TRANSACTION_S,
    VIEW_BYTES,
)
from kafka_admin.reprocess.recovery import recover
from kafka_admin.reprocess.reports import Plan, Progress, RecoveryReport, ReprocessReport
from kafka_admin.reprocess.run import reprocess
from kafka_admin.reprocess.selection import OffsetRange, Offsets, Selection
from kafka_admin.reprocess.sender import DEFAULT_PARTITIONER, LINGER_MS, TRANSACTION_TIMEOUT_MS
from kafka_admin.reprocess.sizing import record_batch_size
from kafka_admin.reprocess.transactional_id import TRANSACTIONAL_ID_PREFIX, transactional_id_for

__all__ = [
    "BATCH_BYTES",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_PARTITIONER",
    "LINGER_MS",
    "MAX_ERRORS",
    "PAGE_BYTES",
    "RATE_LIMITED_TRANSACTION_S",
    "TRANSACTIONAL_ID_PREFIX",
    "TRANSACTION_TIMEOUT_MS",
    "VIEW_BYTES",
    "Accept",
    "Ledger",
    "MemoryLedger",
    "OffsetRange",
    "Offsets",
    "PendingEntry",
    "Plan",
    "Progress",
    "RecordKey",
    "RecoveryReport",
    "ReprocessReport",
    "Selection",
    "Status",
    "Targets",
    "plan",
    "record_batch_size",
    "recover",
    "reprocess",
    "transactional_id_for",
]
