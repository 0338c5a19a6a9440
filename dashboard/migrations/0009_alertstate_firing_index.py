"""An index of the firing alert states alone: every page's firing-alerts lookup read every pending
state of its cluster (a rule over many groups holds one per group). Reversible: backwards, it goes."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0008_alertstate_revision")]

    operations = [
        migrations.AddIndex(
            model_name="alertstate",
            index=models.Index(
                condition=models.Q(("firing_since__isnull", False)),
                fields=["cluster", "firing_since"],
                name="alertstate_firing",
            ),
        ),
    ]
