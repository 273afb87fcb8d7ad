"""Read paths of the study design (coordinators)."""

import threading

from django.db.models import Count, Q

from .models import Assignment, ReaderStudy
from .questions import AnswerValidator


def studies_for_coordinator():
    return ReaderStudy.objects.annotate(
        n_cases=Count("study_cases", distinct=True), n_readers=Count("readers", distinct=True)
    )


def _endpoint_truth(study: ReaderStudy) -> Q:
    labels = [study.positive_label, study.negative_label]
    return Q(case__ground_truth__etiology__in=labels)


def cases_without_truth(study: ReaderStudy) -> list[str]:
    """Codes of the study's cases whose truth is missing or is not one of its two labels."""
    return list(
        study.study_cases.exclude(_endpoint_truth(study))
        .order_by("case__code")
        .values_list("case__code", flat=True)
    )


def case_rows(study: ReaderStudy) -> list[dict]:
    """The case set as the study page lists it: code, collection, truth state, group."""
    labels = {study.positive_label, study.negative_label}
    rows = []
    for sc in study.study_cases.select_related("case__collection", "case__ground_truth"):
        truth = getattr(sc.case, "ground_truth", None)
        etiology = truth.etiology if truth is not None else ""
        rows.append(
            {
                "code": sc.case.code,
                "collection": sc.case.collection.name if sc.case.collection else "",
                "labelled": etiology in labels,
                "truth": etiology if etiology in labels else "",
                "group": sc.group,
            }
        )
    return rows


def model_jobs(study: ReaderStudy) -> dict:
    """Per case, the state of the configured model's job (queued, running with ETA, ...)."""
    from readerstudy.ai.progress import series_progress

    version = study.assistance.model_version
    if version is None:
        return {"model": None, "rows": [], "active": False}
    rows = []
    for sc in study.study_cases.select_related("case"):
        job = series_progress(sc.case.primary_series_id, version)
        rows.append(
            {
                "code": sc.case.code,
                "status": job.status,
                "progress": job.progress,
                "eta_s": job.eta_s,
                "describe": job.describe(),
                "job": job.job,
            }
        )
    active = any(r["status"] in ("queued", "running") for r in rows)
    return {"model": str(version), "rows": rows, "active": active}


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
    running = [j.percent or 0.0 for j in jobs if j.status == InferenceJob.Status.RUNNING]
    return {
        "model": str(version),
        "counts": counts,
        "cases": study.study_cases.count(),
        "running_progress": round(sum(running) / len(running), 1) if running else None,
        "failed": failed,
    }


_FROZEN: dict[tuple, object] = {}
_FROZEN_LOCK = threading.Lock()
_FROZEN_MAX = 512


def _per_frozen_study(study: ReaderStudy, kind: str, build):
    """``build()``, kept per process for a study whose design is frozen.

    Questions can only change while a study is a draft (``services.set_questions``); once it is
    open they are frozen, so what is derived from them is built once per process, keyed by the
    study and the moment it was opened, and reused by every request. Draft studies are always
    read fresh.
    """
    if not study.is_frozen or study.opened_at is None:
        return build()
    key = (kind, study.pk, study.opened_at)
    value = _FROZEN.get(key)
    if value is None:
        value = build()
        with _FROZEN_LOCK:
            if len(_FROZEN) >= _FROZEN_MAX:
                _FROZEN.clear()
            _FROZEN[key] = value
    return value


def answer_validator(study: ReaderStudy) -> AnswerValidator:
    """The compiled answer validator of a study's questions (autosaves and submissions)."""
    return _per_frozen_study(study, "validator", lambda: AnswerValidator(study.questions.all()))


QUESTION_FIELDS = ("code", "type", "text", "help_text", "options", "required", "order")


def question_rows(study: ReaderStudy) -> tuple[dict, ...]:
    """The study's questions as the reading workspace shows them, in their order."""
    return _per_frozen_study(
        study, "questions", lambda: tuple(study.questions.values(*QUESTION_FIELDS))
    )
