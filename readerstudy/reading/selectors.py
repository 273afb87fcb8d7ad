"""Read paths for readers: their worklist and next assignment (no assistance, no truth).

The lookups the reading page makes on every request are explicit SQL (:mod:`.lookups` for an
assignment with its related rows, the rest here): Django compiles a queryset to SQL on every
evaluation, which for these costs several times the CPU of running them (see :mod:`.rows`).
The querysets they stand for (``my_assignments``, ``my_studies``) stay the reference, and the
tests compare the two.
"""

from django.db import connection
from django.db.models import Count, Q

from readerstudy.studies.models import Assignment, ReaderStudy

from . import lookups
from .availability import block_reason
from .models import AnswerRevision, ReaderSegmentation
from .rows import Table, Tables, bigint

DRAFT = ReaderStudy.Status.DRAFT


def my_assignments(user, study_id: int | None = None):
    qs = (
        Assignment.objects.filter(reader__user=user)
        .exclude(study__status=DRAFT)
        .select_related("study", "session", "study_case__case", "prerequisite")
        .order_by("study_id", "session__index", "position")
    )
    if study_id is not None:
        qs = qs.filter(study_id=study_id)
    return qs


def get_my_assignment(user, assignment_id: int, *, with_images=False) -> Assignment | None:
    """One of ``my_assignments``; ``with_images``: with the case's primary series."""
    return lookups.mine(user.pk, assignment_id, with_images=with_images)


_OWNED_SQL = """
    SELECT 1 FROM studies_assignment a
    JOIN studies_studyreader r ON r.id = a.reader_id
    JOIN studies_readerstudy s ON s.id = a.study_id
    WHERE a.id = %s AND r.user_id = %s AND s.status <> %s
"""


def is_my_assignment(user, assignment_id: int) -> bool:
    """Whether the reader may see this assignment (ownership only, one narrow query)."""
    if (pk := bigint(assignment_id)) is None:
        return False
    with connection.cursor() as cursor:
        cursor.execute(_OWNED_SQL, [pk, user.pk, DRAFT])
        return cursor.fetchone() is not None


REVISION = Tables(Table("v", AnswerRevision))
_REVISIONS_SQL = f"""
    SELECT {REVISION.columns} FROM reading_answerrevision v
    WHERE v.assignment_id = %s ORDER BY v.number
"""
_LAST_REVISION_SQL = f"""
    SELECT {REVISION.columns} FROM reading_answerrevision v
    WHERE v.assignment_id = %s ORDER BY v.number DESC LIMIT 1
"""


def revisions_of(assignment: Assignment) -> list[AnswerRevision]:
    """The revisions of an assignment the caller already holds (e.g. just started)."""
    return REVISION.all(_REVISIONS_SQL, [assignment.pk])


def my_revisions(user, assignment_id: int) -> list[AnswerRevision] | None:
    """The assignment's answer revisions in order, or None if it is not the reader's."""
    if not is_my_assignment(user, assignment_id):
        return None
    return REVISION.all(_REVISIONS_SQL, [assignment_id])


def last_revision(assignment_id: int) -> AnswerRevision | None:
    """The assignment's newest revision (for a locked read, its lock row), or None."""
    return REVISION.first(_LAST_REVISION_SQL, [assignment_id])


def prefill_answers(assignment: Assignment, revisions: list[AnswerRevision]) -> dict | None:
    """What the form opens with: the reader's last revision of this read, else (aided read)
    the reader's own locked unaided answer of the same case, else nothing."""
    if revisions:
        return revisions[-1].answers
    prior = last_revision(assignment.prerequisite_id) if assignment.prerequisite_id else None
    return prior.answers if prior else None


def next_assignment(user, study_id: int) -> tuple[Assignment | None, str | None]:
    """The first unlocked assignment of the reader's order, and why it is blocked (if it is)."""
    candidate = lookups.next_unlocked(user.pk, study_id)
    if candidate is None:
        return None, None
    # The first unlocked assignment of the order: everything before it is locked.
    return candidate, block_reason(candidate, earlier_locked=True)


def my_studies(user):
    """The reader's studies (not drafts), newest first, with ``total`` and ``locked`` counts."""
    return (
        ReaderStudy.objects.filter(readers__user=user)
        .exclude(status=DRAFT)
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


# ``my_studies`` as one pass over the reader's own assignments (the queryset's counts join
# every assignment of the study and filter on its reader's user).
PROGRESS = Tables(Table("s", ReaderStudy), annotations=("total", "locked"))
_PROGRESS_SQL = f"""
    SELECT {PROGRESS.columns}, COUNT(a.id), COUNT(CASE WHEN a.state = %s THEN 1 END)
    FROM studies_readerstudy s
    JOIN studies_studyreader r ON r.study_id = s.id
    LEFT JOIN studies_assignment a ON a.reader_id = r.id AND a.study_id = s.id
    WHERE r.user_id = %s AND s.status <> %s
    GROUP BY s.id
    ORDER BY s.opened_at DESC
"""


def my_study_progress(user) -> list[ReaderStudy]:
    """``my_studies`` for the reading page's progress line (polled)."""
    return PROGRESS.all(_PROGRESS_SQL, [Assignment.State.LOCKED, user.pk, DRAFT])


def my_segmentation(user, assignment_id: int, sha256: str):
    """A mask the reader uploaded for this read or the unaided read before it, else None."""
    assignment = lookups.mine(user.pk, assignment_id)
    if assignment is None:
        return None
    reads = [pk for pk in (assignment.pk, assignment.prerequisite_id) if pk]
    return ReaderSegmentation.objects.filter(assignment_id__in=reads, sha256=sha256).first()
