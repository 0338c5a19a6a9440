"""The reprocess ledger without a row per record: each batch's records are packed into its row.

Every batch's ReprocessEntry rows (ordered by offset) become the packed columns of the batch
(dashboard/dlq/ledger_pack.py: DLQ offsets, target topics, partitions and offsets), which keeps every
answer the ledger gave: which records a batch holds and where each one was written. A batch without
entries held no record and answered nothing; it is dropped. Of two entries of one batch with the
same offset (the ledger never wrote such), the later is kept.

Reversible: backwards, each batch's records become ReprocessEntry rows again.

This migration packs with dashboard.dlq.ledger_pack as it is; a later change of the packed format
needs a migration of its own that converts the columns.
"""

from django.db import migrations, models

from dashboard.dlq import ledger_pack

CHUNK = 500


def _batch_ids(Batch) -> list[int]:
    return list(Batch.objects.order_by("id").values_list("id", flat=True))


def pack_entries(apps, schema_editor) -> None:
    Batch = apps.get_model("dashboard", "ReprocessBatch")
    Entry = apps.get_model("dashboard", "ReprocessEntry")
    empty = []
    for pk in _batch_ids(Batch):
        rows = Entry.objects.filter(batch_id=pk).order_by("offset", "id")
        entries = list(rows.values_list("offset", "target_topic", "target_partition", "target_offset"))
        if not entries:
            empty.append(pk)
            continue
        Batch.objects.filter(pk=pk).update(**ledger_pack.pack_entries(entries))
    for i in range(0, len(empty), CHUNK):
        Batch.objects.filter(pk__in=empty[i : i + CHUNK]).delete()


def unpack_batches(apps, schema_editor) -> None:
    Batch = apps.get_model("dashboard", "ReprocessBatch")
    Entry = apps.get_model("dashboard", "ReprocessEntry")
    for pk in _batch_ids(Batch):
        batch = Batch.objects.get(pk=pk)
        Entry.objects.bulk_create(
            [
                Entry(batch_id=pk, offset=offset, target_topic=topic, target_partition=partition, target_offset=target)
                for offset, topic, partition, target in ledger_pack.unpack(batch)
            ],
            batch_size=CHUNK,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0005_reprocess_batches"),
    ]

    operations = [
        migrations.AddField(
            model_name="reprocessbatch",
            name="count",
            field=models.IntegerField(default=0),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="reprocessbatch",
            name="offsets",
            field=models.BinaryField(blank=True, default=b""),
        ),
        migrations.AddField(
            model_name="reprocessbatch",
            name="target_topics",
            field=models.JSONField(default=list),
        ),
        migrations.AddField(
            model_name="reprocessbatch",
            name="topic_index",
            field=models.BinaryField(blank=True, default=b""),
        ),
        migrations.AddField(
            model_name="reprocessbatch",
            name="target_partitions",
            field=models.BinaryField(default=b""),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="reprocessbatch",
            name="target_offsets",
            field=models.BinaryField(default=b""),
            preserve_default=False,
        ),
        migrations.RunPython(pack_entries, unpack_batches),
        migrations.DeleteModel(name="ReprocessEntry"),
    ]
