"""The constraint after the merge, in its own transaction (PostgreSQL refuses an ALTER TABLE
with the merge's trigger events pending)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reading", "0003_exposure_views"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="assistanceexposure",
            constraint=models.UniqueConstraint(
                fields=("assignment", "inference_output"), name="unique_exposure_per_output"
            ),
        ),
    ]
