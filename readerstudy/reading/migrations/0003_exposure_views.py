"""One exposure row per read and model output: views counted on it, duplicates merged."""

import django.utils.timezone
from django.db import migrations, models
from django.db.models import Count, Max


def merge_duplicates(apps, schema_editor):
    """Keep each (read, output)'s first row (its ``shown`` and time); count every row a view."""
    Exposure = apps.get_model("reading", "AssistanceExposure")
    Exposure.objects.update(last_viewed_at=models.F("served_at"))
    groups = (
        Exposure.objects.values("assignment_id", "inference_output_id")
        .annotate(n=Count("pk"), last=Max("served_at"))
        .filter(n__gt=1)
        .order_by()
    )
    for group in groups:
        rows = Exposure.objects.filter(
            assignment_id=group["assignment_id"], inference_output_id=group["inference_output_id"]
        ).order_by("served_at", "pk")
        first = rows.first()
        Exposure.objects.filter(pk=first.pk).update(views=group["n"], last_viewed_at=group["last"])
        rows.exclude(pk=first.pk).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reading", "0002_order_by_parent_id"),
    ]

    operations = [
        migrations.AddField(
            model_name="assistanceexposure",
            name="last_viewed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="assistanceexposure",
            name="views",
            field=models.PositiveIntegerField(
                default=1, help_text="times it was served to the reader"
            ),
        ),
        migrations.AlterField(
            model_name="assistanceexposure",
            name="served_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, help_text="when it was first shown"
            ),
        ),
        migrations.RunPython(merge_duplicates, migrations.RunPython.noop),
    ]
