"""The reprocess ledger by transaction: state, run and actor move from every entry to its batch.

Existing entries are grouped into batches by (cluster, DLQ topic, partition, run, state, actor,
forced), which keeps every answer the ledger gave before: what is confirmed, pending or abandoned,
by whom and in which run.
"""

import django.db.models.deletion
from django.db import migrations, models

GROUPING = ("cluster", "dlq_topic", "partition", "run_id", "state", "actor", "forced")


def group_into_batches(apps, schema_editor) -> None:
    Entry = apps.get_model("dashboard", "ReprocessEntry")
    Batch = apps.get_model("dashboard", "ReprocessBatch")
    groups = (
        Entry.objects.values(*GROUPING)
        .annotate(
            first=models.Min("offset"),
            last=models.Max("offset"),
            created=models.Min("created_at"),
            confirmed=models.Max("confirmed_at"),
        )
        .order_by()
    )
    for group in groups:
        batch = Batch.objects.create(
            **{name: group[name] for name in GROUPING},
            first_offset=group["first"],
            last_offset=group["last"],
            confirmed_at=group["confirmed"],
        )
        Batch.objects.filter(pk=batch.pk).update(created_at=group["created"])  # auto_now_add set it to now
        Entry.objects.filter(**{name: group[name] for name in GROUPING}).update(batch=batch)


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0004_alerts"),
    ]

    operations = [
        migrations.CreateModel(
            name="ReprocessBatch",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("cluster", models.CharField(max_length=100)),
                ("dlq_topic", models.CharField(max_length=255)),
                ("partition", models.IntegerField()),
                ("first_offset", models.BigIntegerField()),
                ("last_offset", models.BigIntegerField()),
                ("run_id", models.CharField(db_index=True, max_length=64)),
                ("state", models.CharField(default="pending", max_length=20)),
                ("actor", models.CharField(blank=True, max_length=150)),
                ("forced", models.BooleanField(default=False)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("confirmed_at", models.DateTimeField(null=True)),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["cluster", "dlq_topic", "partition", "last_offset"], name="reprocess_batch_span"
                    ),
                    models.Index(fields=["cluster", "dlq_topic", "state"], name="reprocess_batch_state"),
                ],
            },
        ),
        migrations.AddField(
            model_name="reprocessentry",
            name="batch",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="entries",
                to="dashboard.reprocessbatch",
            ),
        ),
        migrations.RunPython(group_into_batches, migrations.RunPython.noop),
        migrations.RemoveIndex(model_name="reprocessentry", name="reprocess_key"),
        migrations.RemoveIndex(model_name="reprocessentry", name="reprocess_state"),
        migrations.RemoveField(model_name="reprocessentry", name="cluster"),
        migrations.RemoveField(model_name="reprocessentry", name="dlq_topic"),
        migrations.RemoveField(model_name="reprocessentry", name="partition"),
        migrations.RemoveField(model_name="reprocessentry", name="run_id"),
        migrations.RemoveField(model_name="reprocessentry", name="state"),
        migrations.RemoveField(model_name="reprocessentry", name="actor"),
        migrations.RemoveField(model_name="reprocessentry", name="forced"),
        migrations.RemoveField(model_name="reprocessentry", name="created_at"),
        migrations.RemoveField(model_name="reprocessentry", name="confirmed_at"),
        migrations.AlterField(
            model_name="reprocessentry",
            name="batch",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="entries",
                to="dashboard.reprocessbatch",
            ),
        ),
        migrations.AddIndex(
            model_name="reprocessentry",
            index=models.Index(fields=["batch", "offset"], name="reprocess_entry_key"),
        ),
    ]
