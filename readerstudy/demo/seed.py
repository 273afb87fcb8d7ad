"""The demo studies: phantom cases imported and labelled, the models run, two studies to read.

1. Seed 000 (the demo CVST-ICH model): its task screen, two practice cases with feedback (the
   rule: all practice cases done), then the study's cases, unaided and aided.
2. Seed 001 (the DLRN): hematoma phantoms with their truth masks and clinical records; the
   aided view shows the nomogram, the feature importance and chosen clinical variables.

The models' outputs are computed before the studies open, through the workers' own code, so
the first aided read shows them at once instead of waiting behind the single demo worker.
"""

import csv
from pathlib import Path

from django.db import transaction

from readerstudy.accounts.models import User
from readerstudy.ai.models import InferenceJob
from readerstudy.ai.registry import sync_installed_models
from readerstudy.ai.runner import execute
from readerstudy.ai.services import request_inference
from readerstudy.cases.clinical import set_clinical
from readerstudy.cases.ingest import import_study
from readerstudy.cases.labels import import_labels
from readerstudy.cases.models import Collection
from readerstudy.cases.units import import_units
from readerstudy.studies import practice_services
from readerstudy.studies import services as study_services
from readerstudy.studies.models import Design, ReaderStudy
from readerstudy.studies.practice import PracticeRule

DEMO_STUDY_TITLE = "Demo: CVST-ICH vs sICH (synthetic phantoms)"
DLRN_STUDY_TITLE = "Demo: CVT-related vs other hematoma, DLRN nomogram (seed 001, phantoms)"
DLRN_MODEL = "cvt_hematoma_dlrn"
#: the practice cases' explainer: one map is enough to learn the aided view, and the full set
#: would add minutes to the first ``make demo`` on two cores
PRACTICE_PARAMS = {"explain": ["gradcampp"]}
PRACTICE_TASK = (
    "Each head CT shows one intracerebral haemorrhage. Decide whether it is related to "
    "cerebral venous sinus thrombosis (CVST-ICH) or spontaneous (sICH), and how likely "
    "CVST-ICH is, from 0 to 100.\n"
    "You read each case first without the model; your answer is locked when you submit it. "
    "The same case then opens again with the model's output (its probability, its call and "
    "the heatmaps) and you answer again."
)
DLRN_CLINICAL = ["seizure_at_admission", "headache", "hypertension", "age"]


def import_phantoms(folder: Path, collection_name: str = "demo phantoms") -> list:
    collection, _ = Collection.objects.get_or_create(
        name=collection_name,
        defaults={"description": "synthetic head-CT phantoms (not patients)"},
    )
    cases = [import_study(unit, collection=collection).case for unit in import_units([folder])]
    import_labels(folder / "labels.csv")
    return cases


def demo_model():
    versions = sync_installed_models()
    return next(v for v in versions if v.model_id == "cvst_ich_demo")


def dlrn_model():
    versions = sync_installed_models()
    return next(v for v in versions if v.model_id == DLRN_MODEL)


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


def ensure_demo_practice(study: ReaderStudy, cases: list, by: User) -> None:
    """The study's task text, ``cases`` as its practice cases and the rule "all practice cases
    done" (each set once; a re-run changes nothing)."""
    known = set(study.practice_cases.values_list("case_id", flat=True))
    for case in cases:
        if case.pk not in known:
            practice_services.add_case(study, case, by=by)
    settings = getattr(study, "practice_settings", None)
    if settings is None or settings.rule != PracticeRule.ALL_DONE or not settings.task_text:
        practice_services.configure(
            study, by=by, task_text=PRACTICE_TASK, rule=PracticeRule.ALL_DONE, max_attempts=0
        )


# --- seed 001: hematoma phantoms with truth masks and clinical records ----------------------
_ETIOLOGY = {"cvt": "CVT", "hp": "HP", "caa": "CAA", "avm": "AVM"}
_BINARY = {"cvt_related": "cvt", "other": "other"}
_YES_NO = {1.0: "yes", 0.0: "no"}


def write_hematoma_phantoms(folder: Path, n: int, seed: int) -> None:
    """``n`` seed-001 phantoms (HM0001, ...): DICOM series, ``<case>_mask.nii.gz`` truth masks,
    ``labels.csv`` (the seed-001 labels cvt / other) and ``clinical.csv`` (age, sex, seizure,
    headache, hypertension and the etiology, by phantom folder)."""
    from phantoms.dicom_io import write_case
    from phantoms.hematoma import hematoma_cases

    folder.mkdir(parents=True, exist_ok=True)
    labels, clinical = [], []
    for item in hematoma_cases(n, seed, matrix=128, positive_fraction=0.5):
        record = write_case(item.case, folder)
        uid = record["study_instance_uid"]
        labels.append({"case_id": item.case.case_id, "label": _BINARY[item.label],
                       "study_instance_uid": uid})  # fmt: skip
        c = item.covariates
        clinical.append({
            "case_id": item.case.case_id,
            "age": str(int(c["age"])),
            "sex": "F" if c["sex_female"] else "M",
            "seizure_at_admission": _YES_NO[c["seizure"]],
            "headache": _YES_NO[c["headache"]],
            "hypertension": _YES_NO[c["hypertension"]],
            "etiology": _ETIOLOGY[item.etiology],
        })  # fmt: skip
    for name, rows in (("clinical.csv", clinical), ("labels.csv", labels)):  # labels.csv last
        with open(folder / name, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)


def import_hematoma_phantoms(folder: Path) -> list:
    """Import the seed-001 phantoms with their truth and masks, then each case's clinical
    record (a re-run finds the cases by content and stores the same records again)."""
    collection, _ = Collection.objects.get_or_create(
        name="demo seed-001 phantoms",
        defaults={"description": "synthetic hematoma phantoms with clinical records"},
    )
    with open(folder / "clinical.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    cases = [import_study(folder / row["case_id"], collection=collection).case for row in rows]
    import_labels(folder / "labels.csv")
    for case, row in zip(cases, rows, strict=True):
        texts = {k: v for k, v in row.items() if k != "case_id"}
        set_clinical(case, texts, source="demo phantoms")
    return cases


def ensure_dlrn_study(cases: list, readers: list[User], model) -> ReaderStudy:
    existing = ReaderStudy.objects.filter(title=DLRN_STUDY_TITLE).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        study = study_services.create_study(
            title=DLRN_STUDY_TITLE,
            design=Design.SEQUENTIAL_PER_CASE,
            preset="seed001",
            randomization_seed=2001,
            description=(
                "Seed-001 protocol: unaided read, lock, then the aided read of the same case "
                "with the DLRN's probability, its nomogram (this case's points), the feature "
                "importance and the patient's seizure, headache, hypertension and age."
            ),
        )
        study_services.add_cases(study, cases)
        for reader in readers:
            study_services.enroll_reader(study, reader)
        study_services.configure_assistance(
            study, model_version=model, operating_point=next(iter(model.operating_points)),
            heatmaps=[], show_mask_outline=False, show_nomogram=True,
            show_feature_importance=True, show_clinical=DLRN_CLINICAL,
        )  # fmt: skip
        study = study_services.open_study(study, truth_pending_allowed=False)
    return study
