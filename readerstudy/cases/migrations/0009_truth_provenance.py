from django.db import migrations, models


def _fields_held(truth) -> list[str]:
    held = []
    if truth.etiology:
        held.append("etiology")
    if truth.ich_present is not None:
        held.append("ich_present")
    if truth.subtypes or truth.ich_present is not None:
        held.append("subtypes")
    if truth.location:
        held.append("location")
    if truth.slice_labels:
        held.append("slice_labels")
    return held


def imported_truth(apps, schema_editor):
    """Truth stored before provenance existed came from imports (the CSV or the case page)."""
    GroundTruth = apps.get_model("cases", "GroundTruth")
    for truth in GroundTruth.objects.all().iterator():
        at = truth.updated_at.isoformat() if truth.updated_at else None
        truth.provenance = {
            name: {"method": "import", "annotators": [], "source": truth.source, "at": at}
            for name in _fields_held(truth)
        }
        GroundTruth.objects.filter(pk=truth.pk).update(provenance=truth.provenance)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0008_clinical_variables"),
    ]

    operations = [
        migrations.AddField(
            model_name="groundtruth",
            name="provenance",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="per truth field: method (import / vote / adjudication), annotators, "
                "source, at",
            ),
        ),
        migrations.RunPython(imported_truth, migrations.RunPython.noop),
    ]
