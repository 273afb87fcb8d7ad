"""Read paths of the case library."""

from readerstudy.core.jsontext import text_problem

from .models import Case, ClinicalRecord, GroundTruth, ImportJob


def import_job(job_id) -> ImportJob | None:
    """Any coordinator (or admin) may follow any import job, as in the case library."""
    return ImportJob.objects.filter(pk=job_id).prefetch_related("cases").first()


def import_job_state(job: ImportJob) -> dict:
    """What a poller sees: phase, counts, outcome (codes and PHI-free messages only)."""
    return {
        "id": str(job.pk),
        "status": job.status,
        "phase": job.phase,
        "done": job.done,
        "total": job.total,
        "progress": job.percent or 0.0,
        "error_code": job.error_code,
        "error": job.error,
        "cancel_requested": job.cancel_requested,
        "can_cancel": job.can_cancel,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "cases": [case.code for case in job.cases.all()],
        "created": job.created_case,
        "errors": job.errors,
        "created_at": job.created_at.isoformat(),
        "updated_at": job.updated_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def recent_import_jobs(limit: int = 20):
    return ImportJob.objects.prefetch_related("cases").order_by("-created_at")[:limit]


def library_cases(limit: int = 500):
    return Case.objects.select_related("primary_series", "collection", "ground_truth").order_by(
        "-created_at"
    )[:limit]


def library_case(code: str) -> Case | None:
    if text_problem(code):  # no case has such a code, and PostgreSQL refuses NUL in a query
        return None
    return (
        Case.objects.select_related("primary_series", "collection", "ground_truth")
        .filter(code=code)
        .first()
    )


def truth_of(case: Case) -> GroundTruth | None:
    try:
        return case.ground_truth
    except GroundTruth.DoesNotExist:
        return None


def truth_state(case: Case) -> dict:
    """A case's ground truth as the labels CSV has it (``label`` is the etiology)."""
    truth = truth_of(case)
    return {
        "case": case.code,
        "labelled": bool(truth and truth.etiology),
        "label": truth.etiology if truth else "",
        "ich_present": truth.ich_present if truth else None,
        "subtypes": list(truth.subtypes) if truth else [],
        "location": truth.location if truth else "",
        "site": case.site,
        "source": truth.source if truth else "",
        "updated_at": truth.updated_at if truth else None,
    }


def clinical_values(case: Case) -> dict:
    """A case's stored clinical values ({variable: typed value}); coordinators only."""
    record = ClinicalRecord.objects.filter(case=case).first()
    return dict(record.values) if record else {}


def clinical_rows(cases=None) -> list[dict]:
    """``{"case": code, **values}`` of every case with clinical data (or of ``cases``), by code."""
    records = ClinicalRecord.objects.select_related("case").order_by("case__code")
    if cases is not None:
        records = records.filter(case__in=cases)
    return [{"case": r.case.code, **r.values} for r in records]
