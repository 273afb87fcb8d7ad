# Outputs per label: heatmaps name the label they explain, outputs keep slice-level
# probabilities, and decisions become {operating point: {label: 0 or 1}}.
#
# The schema changes come first and the row updates last: on PostgreSQL a table cannot be
# altered after its rows were updated in the same transaction (pending trigger events).

from django.db import migrations, models


def _labels(manifest: dict) -> list[str]:
    return [
        label["name"] if isinstance(label, dict) else label
        for label in manifest.get("labels") or []
    ]


def forwards(apps, schema_editor):
    """Existing heatmaps explain the version's positive label; a decision naming one label
    becomes that label's 0/1 call on the positive label."""
    InferenceOutput = apps.get_model("ai", "InferenceOutput")
    Heatmap = apps.get_model("ai", "Heatmap")
    for output in InferenceOutput.objects.select_related("job__model_version"):
        positive = output.job.model_version.positive_label
        decisions = {
            op: {positive: int(call == positive)} if isinstance(call, str) else call
            for op, call in (output.decisions or {}).items()
        }
        if decisions != output.decisions:
            InferenceOutput.objects.filter(pk=output.pk).update(decisions=decisions)
        Heatmap.objects.filter(output=output, label="").update(label=positive)


def backwards(apps, schema_editor):
    """A call on the positive label alone becomes the label it names (the other label of a
    two-label model for 0); other decisions cannot be written in the old format and stay."""
    InferenceOutput = apps.get_model("ai", "InferenceOutput")
    for output in InferenceOutput.objects.select_related("job__model_version"):
        version = output.job.model_version
        positive = version.positive_label
        others = [label for label in _labels(version.manifest or {}) if label != positive]
        negative = others[0] if len(others) == 1 else f"not_{positive}"
        decisions = {
            op: (positive if call[positive] else negative)
            if isinstance(call, dict) and set(call) == {positive}
            else call
            for op, call in (output.decisions or {}).items()
        }
        if decisions != output.decisions:
            InferenceOutput.objects.filter(pk=output.pk).update(decisions=decisions)


class Migration(migrations.Migration):
    dependencies = [
        ("ai", "0003_remove_inferencejob_progress"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="heatmap", name="unique_heatmap_method"),
        migrations.AddField(
            model_name="heatmap",
            name="label",
            field=models.CharField(
                default="", help_text="the model label (or class) explained", max_length=64
            ),
            preserve_default=False,
        ),
        migrations.AddConstraint(
            model_name="heatmap",
            constraint=models.UniqueConstraint(
                fields=("output", "method", "label"), name="unique_heatmap_method_label"
            ),
        ),
        migrations.AddField(
            model_name="inferenceoutput",
            name="slice_uids",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="de-identified SOP Instance UIDs, geometric order",
            ),
        ),
        migrations.AddField(
            model_name="inferenceoutput",
            name="slice_probabilities",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="{label: [probability per slice of slice_uids]}",
            ),
        ),
        migrations.AlterField(
            model_name="inferenceoutput",
            name="decisions",
            field=models.JSONField(help_text="{operating point: {label: 0 or 1}}"),
        ),
        migrations.AlterField(
            model_name="inferenceoutput",
            name="mask",
            field=models.CharField(
                blank=True,
                help_text="storage name (NIfTI); empty without segmentation",
                max_length=300,
            ),
        ),
        migrations.AlterField(
            model_name="inferenceoutput",
            name="probabilities",
            field=models.JSONField(
                help_text="{label: probability}; a multi-class head as {head: {class: probability}}"
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
