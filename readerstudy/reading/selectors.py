"""Read paths for readers: their worklist and next assignment (no assistance, no truth)."""

from django.db.models import Count, Q

from readerstudy.studies.models import Assignment, ReaderStudy

from .availability import block_reason


def my_assignments(user, study_id: int | None = None):
    qs = (
        Assignment.objects.filter(reader__user=user)
        .exclude(study__status=ReaderStudy.Status.DRAFT)
        .select_related("study", "session", "study_case__case", "prerequisite")
        .order_by("study_id", "session__index", "position")
    )
    if study_id is not None:
        qs = qs.filter(study_id=study_id)
    return qs


def get_my_assignment(user, assignment_id: int) -> Assignment | None:
    return my_assignments(user).filter(pk=assignment_id).first()


def next_assignment(user, study_id: int) -> tuple[Assignment | None, str | None]:
    """The first unlocked assignment of the reader's order, and why it is blocked (if it is)."""
    candidate = (
        my_assignments(user, study_id)
        .filter(study__status=ReaderStudy.Status.OPEN)
        .exclude(state=Assignment.State.LOCKED)
        .first()
    )
    if candidate is None:
        return None, None
    return candidate, block_reason(candidate)


def my_studies(user):
    return (
        ReaderStudy.objects.filter(readers__user=user)
        .exclude(status=ReaderStudy.Status.DRAFT)
        .annotate(
            total=Count("assignments", filter=Q(assignments__reader__user=user)),
            locked=Count(
                "assignments",
                filter=Q(
                    assignments__reader__user=user, assignments__state=Assignment.State.LOCKED
                ),
            ),
        )
        .order_by("-opened_at")
    )
