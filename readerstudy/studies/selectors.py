"""Read paths of the study design (coordinators)."""

import threading

from django.db.models import Count, Q

from .endpoints import endpoint_values, truth_present
from .models import Assignment, Endpoint, EndpointKind, ReaderStudy
from .questions import AnswerValidator
from .truth_source import study_truths


def studies_for_coordinator():
    return ReaderStudy.objects.annotate(
        n_cases=Count("study_cases", distinct=True), n_readers=Count("readers", distinct=True)
    )


def primary_endpoint(study: ReaderStudy) -> Endpoint | None:
    """The endpoint a study is analysed on first (its labels: positive, then negative)."""
    return (
        study.endpoints.filter(is_primary=True)
        .select_related("question", "rating_question")
        .first()
    )


def _case_truths(study: ReaderStudy) -> list[tuple]:
    truths = study_truths(study)
    return [
        (sc, truths.get(sc.case_id))
        for sc in study.study_cases.select_related("case__collection").order_by("case__code")
    ]


def missing_truth(study: ReaderStudy) -> dict[str, list[str]]:
    """Per endpoint code (in order), the codes of the study's cases its truth does not settle."""
    endpoints = list(study.endpoints.all())
    cases = _case_truths(study)
    missing = {
        endpoint.code: [sc.case.code for sc, truth in cases if not truth_present(endpoint, truth)]
        for endpoint in endpoints
    }
    return {code: codes for code, codes in missing.items() if codes}


def cases_without_truth(study: ReaderStudy) -> list[str]:
    """Codes of the study's cases lacking truth for at least one of its endpoints."""
    return sorted({code for codes in missing_truth(study).values() for code in codes})


def truth_summary(endpoint: Endpoint, truth) -> str:
    """A case's truth for an endpoint, in its label values ("" when it has none)."""
    if not truth_present(endpoint, truth):
        return ""
    values = endpoint_values(endpoint, {}, truth)
    if endpoint.kind == EndpointKind.BINARY:
        labels = [label["value"] for label in endpoint.labels]
        return labels[0] if values[0].truth == 1 else labels[1]
    if endpoint.kind == EndpointKind.MULTI_LABEL:
        return ", ".join(v.endpoint for v in values if v.truth == 1) or "none"
    return str(values[0].truth or "n/a")


def case_rows(study: ReaderStudy) -> list[dict]:
    """The case set as the study page lists it: code, collection, truth state, group."""
    endpoints = list(study.endpoints.order_by("-is_primary", "order", "id"))
    rows = []
    for sc, truth in _case_truths(study):
        labelled = bool(endpoints) and all(truth_present(e, truth) for e in endpoints)
        rows.append(
            {
                "code": sc.case.code,
                "collection": sc.case.collection.name if sc.case.collection else "",
                "labelled": labelled,
                "truth": truth_summary(endpoints[0], truth) if labelled else "",
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


QUESTION_FIELDS = (
    "code", "type", "text", "help_text", "options", "required", "order", "show_if", "config",
)  # fmt: skip


def question_rows(study: ReaderStudy) -> tuple[dict, ...]:
    """The study's questions as the reading workspace shows them, in their order."""
    return _per_frozen_study(
        study, "questions", lambda: tuple(study.questions.values(*QUESTION_FIELDS))
    )


QUESTION_SPEC_FIELDS = ("code", "type", "text", "help_text", "options", "required", "is_primary")


def question_specs(study: ReaderStudy) -> list[dict]:
    """The study's questions in order, as ``services.set_questions`` takes them (editors)."""
    return [
        {
            **{f: getattr(q, f) for f in QUESTION_SPEC_FIELDS},
            "show_if": q.show_if or {},
            "config": q.config or {},
        }
        for q in study.questions.all()
    ]


def endpoint_specs(study: ReaderStudy) -> list[dict]:
    """The study's endpoints in order, as ``services.set_endpoints`` takes them (editors)."""
    return [
        {
            "code": e.code,
            "name": e.name,
            "kind": e.kind,
            "truth_field": e.truth_field,
            "labels": e.labels,
            "question": e.question.code if e.question else None,
            "rating_question": e.rating_question.code if e.rating_question else None,
            "is_primary": e.is_primary,
        }
        for e in study.endpoints.select_related("question", "rating_question")
    ]


def maps_shown(study: ReaderStudy) -> dict:
    """Per model version the study's conditions show (the comparator model of a study that
    shows none included), the union of the heatmap methods they show: what to run the model for.
    """
    shown: dict = {}
    for config in study.assistance_configs.select_related("model_version").order_by("id"):
        if config.model_version is not None:
            shown.setdefault(config.model_version, set()).update(config.heatmaps)
    return {version: sorted(methods) for version, methods in shown.items()}
