"""Read paths for readers: their worklist and next assignment (no assistance, no truth)."""

from django.db.models import Count, Q

from readerstudy.core.compiled import CompiledQuery
from readerstudy.studies.models import Assignment, ReaderStudy

from .availability import block_reason
from .models import AnswerRevision


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


# The reading page's lookups, compiled once per process (see readerstudy.core.compiled).
_MY_ASSIGNMENT = CompiledQuery(
    lambda user, pk: my_assignments(user).filter(pk=pk)[:1], user=int, pk=int
)
_MY_ASSIGNMENT_WITH_IMAGES = CompiledQuery(
    lambda user, pk: (
        my_assignments(user).filter(pk=pk).select_related("study_case__case__primary_series")[:1]
    ),
    user=int,
    pk=int,
)
_NEXT_ASSIGNMENT = CompiledQuery(
    lambda user, study: (
        my_assignments(user, study)
        .filter(study__status=ReaderStudy.Status.OPEN)
        .exclude(state=Assignment.State.LOCKED)[:1]
    ),
    user=int,
    study=int,
)
_OWNED = CompiledQuery(
    lambda user, pk: (
        Assignment.objects.filter(pk=pk, reader__user=user)
        .exclude(study__status=ReaderStudy.Status.DRAFT)
        .only("pk")[:1]
    ),
    user=int,
    pk=int,
)
_REVISIONS = CompiledQuery(
    lambda pk: AnswerRevision.objects.filter(assignment_id=pk).order_by("number"), pk=int
)
_LAST_REVISION = CompiledQuery(
    lambda pk: AnswerRevision.objects.filter(assignment_id=pk).order_by("-number")[:1], pk=int
)


def get_my_assignment(user, assignment_id: int, *, with_images=False) -> Assignment | None:
    query = _MY_ASSIGNMENT_WITH_IMAGES if with_images else _MY_ASSIGNMENT
    return query.first(user=user.pk, pk=assignment_id)


def is_my_assignment(user, assignment_id: int) -> bool:
    """Whether the reader may see this assignment (ownership only, one narrow query)."""
    return _OWNED.first(user=user.pk, pk=assignment_id) is not None


def revisions_of(assignment: Assignment) -> list[AnswerRevision]:
    """The revisions of an assignment the caller already holds (e.g. just started)."""
    return _REVISIONS.all(pk=assignment.pk)


def my_revisions(user, assignment_id: int) -> list[AnswerRevision] | None:
    """The assignment's answer revisions in order, or None if it is not the reader's."""
    if not is_my_assignment(user, assignment_id):
        return None
    return _REVISIONS.all(pk=assignment_id)


def last_revision(assignment_id: int) -> AnswerRevision | None:
    """The assignment's newest revision (for a locked read, its lock row), or None."""
    return _LAST_REVISION.first(pk=assignment_id)


def prefill_answers(assignment: Assignment, revisions: list[AnswerRevision]) -> dict | None:
    """What the form opens with: the reader's last revision of this read, else (aided read)
    the reader's own locked unaided answer of the same case, else nothing."""
    if revisions:
        return revisions[-1].answers
    prior = last_revision(assignment.prerequisite_id) if assignment.prerequisite_id else None
    return prior.answers if prior else None


def next_assignment(user, study_id: int) -> tuple[Assignment | None, str | None]:
    """The first unlocked assignment of the reader's order, and why it is blocked (if it is)."""
    candidate = _NEXT_ASSIGNMENT.first(user=user.pk, study=study_id)
    if candidate is None:
        return None, None
    # The first unlocked assignment of the order: everything before it is locked.
    return candidate, block_reason(candidate, earlier_locked=True)


def my_studies(user):
    """The reader's studies (not drafts), newest first, with ``total`` and ``locked`` counts."""
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


_MY_STUDIES = CompiledQuery(my_studies, user=int)


def my_study_progress(user) -> list[ReaderStudy]:
    """``my_studies`` for the reading page's progress line (polled), compiled once."""
    return _MY_STUDIES.all(user=user.pk)
