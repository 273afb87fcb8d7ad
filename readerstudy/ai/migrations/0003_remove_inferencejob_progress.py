# The per-cent progress lives in done/total since 0002. A migration of its own: on PostgreSQL
# a table cannot be altered in the transaction that updated its rows (pending trigger events).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("ai", "0002_inference_job_lifecycle"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="inferencejob",
            name="progress",
        ),
    ]
