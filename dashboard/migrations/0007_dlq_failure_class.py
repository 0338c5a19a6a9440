"""DLQ records learn the failure's real class, its stage and the header conventions that were read.

Backfill: every existing row's failure_class starts as its exception_class (what triage grouped by
until now) and its convention as "" ("not read since"); the DLQ index then re-reads those records
from Kafka in bounded batches (dashboard.dlq.index.reread_unrecorded) and fills in the cause class,
the stage and the convention. Reversible: backwards, the three columns and their index go.
"""

from django.db import migrations, models
from django.db.models import F


def backfill(apps, schema_editor) -> None:
    DlqRecord = apps.get_model("dashboard", "DlqRecord")
    DlqRecord.objects.update(failure_class=F("exception_class"), convention="")


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0006_reprocess_packed")]

    operations = [
        migrations.AddField(
            model_name="dlqrecord", name="failure_class", field=models.CharField(blank=True, max_length=300)
        ),
        migrations.AddField(model_name="dlqrecord", name="stage", field=models.CharField(blank=True, max_length=300)),
        migrations.AddField(
            model_name="dlqrecord", name="convention", field=models.CharField(blank=True, max_length=100)
        ),
        migrations.AddIndex(
            model_name="dlqrecord",
            index=models.Index(fields=["cluster", "topic", "failure_class"], name="dlqrecord_failure"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
