"""Every existing study gets its conditions: ``unaided``, and ``aided`` where its design reads
aided, which takes over the study's assistance configuration. A study that reads aided but had
no configuration gets a default one; an unaided-only study keeps its configuration as its
comparator model (no condition).

Backwards, a study may only have the default conditions (``unaided``, ``aided``) and one
configuration: the first aided condition's is kept, a second one refuses the step.
"""

from django.db import migrations
from django.db.migrations.exceptions import IrreversibleError

UNAIDED, AIDED = "unaided", "aided"


def add_conditions(apps, schema_editor):
    ReaderStudy = apps.get_model("studies", "ReaderStudy")
    StudyCondition = apps.get_model("studies", "StudyCondition")
    AssistanceConfig = apps.get_model("studies", "AssistanceConfig")
    for study in ReaderStudy.objects.all():
        StudyCondition.objects.create(study=study, code=UNAIDED, name="Unaided", order=0)
        if study.design == "unaided_only":
            continue
        aided = StudyCondition.objects.create(study=study, code=AIDED, name="Aided", order=1)
        config = AssistanceConfig.objects.filter(study=study).order_by("id").first()
        if config is None:
            AssistanceConfig.objects.create(study=study, condition=aided)
        else:
            config.condition = aided
            config.save(update_fields=["condition"])


def remove_conditions(apps, schema_editor):
    StudyCondition = apps.get_model("studies", "StudyCondition")
    AssistanceConfig = apps.get_model("studies", "AssistanceConfig")
    other = StudyCondition.objects.exclude(code__in=[UNAIDED, AIDED])
    if other.exists():
        studies = sorted({c.study_id for c in other})
        raise IrreversibleError(f"studies {studies} have conditions other than unaided and aided")
    for study_id in AssistanceConfig.objects.values_list("study_id", flat=True).distinct():
        configs = AssistanceConfig.objects.filter(study_id=study_id).order_by("id")
        if configs.count() > 1:
            raise IrreversibleError(f"study {study_id} has more than one assistance configuration")
    AssistanceConfig.objects.update(condition=None)
    StudyCondition.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("studies", "0006_conditions")]

    operations = [migrations.RunPython(add_conditions, remove_conditions)]
