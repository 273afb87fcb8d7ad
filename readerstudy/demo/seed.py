"""The demo study: phantom cases imported and labelled, the demo model run, a study to read.

The model's outputs are computed before the study opens, so the first aided read shows them
at once instead of waiting behind the single demo worker.
"""

from pathlib import Path

from django.db import transaction

from readerstudy.accounts.models import User
from readerstudy.ai.models import InferenceJob
from readerstudy.ai.registry import sync_installed_models
from readerstudy.ai.runner import execute
from readerstudy.ai.services import request_inference
from readerstudy.cases.ingest import import_study
from readerstudy.cases.labels import import_labels
from readerstudy.cases.models import Collection
from readerstudy.cases.units import import_units
from readerstudy.studies import services as study_services
from readerstudy.studies.models import Design, ReaderStudy

DEMO_STUDY_TITLE = "Demo: CVST-ICH vs sICH (synthetic phantoms)"


def import_phantoms(folder: Path) -> list:
    collection, _ = Collection.objects.get_or_create(
        name="demo phantoms", defaults={"description": "synthetic head-CT phantoms (not patients)"}
    )
    cases = [import_study(unit, collection=collection).case for unit in import_units([folder])]
    import_labels(folder / "labels.csv")
    return cases


def demo_model():
    versions = sync_installed_models()
    return next(v for v in versions if v.model_id == "cvst_ich_demo")


def compute_outputs(cases: list, model, report=None, *, params=None) -> list[InferenceJob]:
    """Run the demo model on every case now, in this process, through the workers' own code.

    A job that already succeeded (an earlier ``make demo`` on the same data dir) is skipped,
    so only the first set-up pays for it. ``report(done, total, job)`` follows the progress.
    The jobs' queued messages still reach the worker, which finds them done and skips them.
    """
    jobs = [request_inference(case, model, params=params) for case in cases]
    for done, job in enumerate(jobs, start=1):
        job.refresh_from_db()
        if job.status != InferenceJob.Status.SUCCEEDED:
            execute(job_id=str(job.pk))
            job.refresh_from_db()
        if report is not None:
            report(done, len(jobs), job)
    return jobs


def ensure_demo_study(cases: list, readers: list[User], model) -> ReaderStudy:
    existing = ReaderStudy.objects.filter(title=DEMO_STUDY_TITLE).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        study = study_services.create_study(
            title=DEMO_STUDY_TITLE,
            design=Design.SEQUENTIAL_PER_CASE,
            randomization_seed=2025,
            description="Seed-000 protocol: unaided read, lock, then aided read of the same case.",
        )
        study_services.add_cases(study, cases)
        for reader in readers:
            study_services.enroll_reader(study, reader)
        study_services.configure_assistance(
            study, model_version=model, heatmaps=["gradcampp", "ig", "shap", "occlusion"]
        )
        study = study_services.open_study(study, truth_pending_allowed=False)
    return study
