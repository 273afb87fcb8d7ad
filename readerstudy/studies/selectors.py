"""Read paths of the study design (coordinators)."""

from django.db.models import Count, Q

from .models import Assignment, ReaderStudy


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
