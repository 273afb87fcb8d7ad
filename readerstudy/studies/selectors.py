"""Read paths of the study design (coordinators)."""

import threading

from django.db.models import Count, Q

from .models import Assignment, ReaderStudy
from .questions import AnswerValidator


def studies_for_coordinator():
    return ReaderStudy.objects.annotate(
        n_cases=Count("study_cases", distinct=True), n_readers=Count("readers", distinct=True)
    )


def reader_progress(study: ReaderStudy) -> list[dict]:
    """Per reader: assignments by state. Counts only: no answers, no truth."""
    rows = (
        study.readers.select_related("user", "arm", "user__reader_profile")
        .annotate(
            total=Count("assignments"),
            locked=Count("assignments", filter=Q(assignments__state=Assignment.State.LOCKED)),
            in_progress=Count(
                "assignments", filter=Q(assignments__state=Assignment.State.IN_PROGRESS)
            ),
            submitted=Count("assignments", filter=Q(assignments__state=Assignment.State.SUBMITTED)),
        )
        .order_by("user__username")
    )
    progress = []
    for r in rows:
        profile = getattr(r.user, "reader_profile", None)
        progress.append(
            {
                "reader": r.user.username,
                "specialty": profile.get_specialty_display() if profile else "",
                "years_experience": profile.years_experience if profile else None,
                "arm": r.arm.name if r.arm else "",
                "total": r.total,
                "locked": r.locked,
                "in_progress": r.in_progress,
                "submitted": r.submitted,
                "percent": round(100 * r.locked / r.total, 1) if r.total else 0.0,
            }
        )
    return progress


def inference_progress(study: ReaderStudy) -> dict:
    """Model jobs of the study's cases for the configured model version, counted by status."""
    from readerstudy.ai.models import InferenceJob

    version = study.assistance.model_version
    if version is None:
        return {"model": None, "counts": {}, "failed": []}
    jobs = InferenceJob.objects.filter(
        model_version=version, case__study_memberships__study=study
    ).select_related("case")
    counts = {status: 0 for status in InferenceJob.Status.values}
    failed = []
    for job in jobs:
        counts[job.status] += 1
        if job.status == InferenceJob.Status.FAILED:
            failed.append({"case": job.case.code, "error": job.error})
    running = [j.progress for j in jobs if j.status == InferenceJob.Status.RUNNING]
    return {
        "model": str(version),
        "counts": counts,
        "cases": study.study_cases.count(),
        "running_progress": round(sum(running) / len(running), 1) if running else None,
        "failed": failed,
    }


_VALIDATORS: dict[tuple, AnswerValidator] = {}
_VALIDATORS_LOCK = threading.Lock()
_VALIDATORS_MAX = 256


def answer_validator(study: ReaderStudy) -> AnswerValidator:
    """The compiled answer validator of a study's questions.

    Questions can only change while a study is a draft (``services.set_questions``); once it is
    open they are frozen, so the validator is built once per process, keyed by the study and the
    moment it was opened, and reused by every autosave and submission. Draft studies are always
    read fresh.
    """
    if not study.is_frozen or study.opened_at is None:
        return AnswerValidator(study.questions.all())
    key = (study.pk, study.opened_at)
    validator = _VALIDATORS.get(key)
    if validator is None:
        validator = AnswerValidator(study.questions.all())
        with _VALIDATORS_LOCK:
            if len(_VALIDATORS) >= _VALIDATORS_MAX:
                _VALIDATORS.clear()
            _VALIDATORS[key] = validator
    return validator
