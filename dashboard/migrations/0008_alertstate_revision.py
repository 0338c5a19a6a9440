"""Alert states count their writes (`revision`), so that the poller's copy in memory can tell that
another process changed them. Existing rows start at 0; reversible: backwards, the column goes."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0007_dlq_failure_class")]

    operations = [
        migrations.AddField(model_name="alertstate", name="revision", field=models.PositiveIntegerField(default=0)),
    ]
