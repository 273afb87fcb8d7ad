"""When may a reader work on an assignment? Session opening, washout, order, prerequisites."""

from datetime import timedelta

from django.db.models import Max
from django.utils import timezone

from readerstudy.core.compiled import CompiledQuery
from readerstudy.studies.models import Assignment, ReaderStudy

DONE = (Assignment.State.LOCKED,)

# Checked on every start: compiled once per process (see readerstudy.core.compiled).
_EARLIER_UNLOCKED = CompiledQuery(
    lambda reader, session, position: (
        Assignment.objects.filter(reader_id=reader, session_id=session, position__lt=position)
        .exclude(state__in=DONE)
        .only("pk")[:1]
    ),
    reader=int,
    session=int,
    position=int,
)


def session_block_reason(assignment: Assignment, now=None, *, earlier_locked=False) -> str | None:
    """Why the assignment's session is not open to its reader yet, or None.

    ``earlier_locked``: the caller knows every earlier assignment of the reader is locked.
    """
    now = now or timezone.now()
    session = assignment.session
    if session.opens_at and now < session.opens_at:
        return f"{session.name} opens on {session.opens_at:%Y-%m-%d %H:%M} UTC"
    if session.index > 1:
        previous = Assignment.objects.filter(
            reader_id=assignment.reader_id, session__index=session.index - 1
        )
        if not earlier_locked and previous.exclude(state__in=DONE).exists():
            return "finish and lock the previous session first"
        last_lock = (
            previous.aggregate(last=Max("locked_at"))["last"] if session.washout_days else None
        )
        if last_lock:
            opens = last_lock + timedelta(days=session.washout_days)
            if now < opens:
                return f"washout: {session.name} opens for you on {opens:%Y-%m-%d} UTC"
    return None


def block_reason(assignment: Assignment, now=None, *, earlier_locked=False) -> str | None:
    """Why the reader cannot work on this assignment now, or None if they can.

    ``earlier_locked``: the caller found this assignment as the first unlocked one of the
    reader's order, so the order checks against earlier rows are already answered.
    """
    if assignment.study.status != ReaderStudy.Status.OPEN:
        return "the study is not open for reading"
    if assignment.state in DONE:
        return "this read is locked"
    reason = session_block_reason(assignment, now, earlier_locked=earlier_locked)
    if reason:
        return reason
    if assignment.prerequisite_id and assignment.prerequisite.state not in DONE:
        return "lock the unaided read of this case first"
    if earlier_locked:
        return None
    earlier = _EARLIER_UNLOCKED.first(
        reader=assignment.reader_id, session=assignment.session_id, position=assignment.position
    )
    if earlier is not None:
        return "cases are read in your assigned order: finish the earlier ones first"
    return None


def started_block_reason(assignment: Assignment, now=None) -> str | None:
    """``block_reason`` for an assignment its reader has already started, without queries.

    Starting checked the whole protocol (``block_reason``). What it checked against other rows
    cannot change afterwards: locks are final, orders and prerequisites are frozen when the study
    opens, and a washout that has passed stays passed. What can change is on the assignment, its
    study and its session (loaded with it): the study closing, the assignment being locked, the
    session's opening date.
    """
    if assignment.state == Assignment.State.PENDING:
        return block_reason(assignment, now)
    if assignment.study.status != ReaderStudy.Status.OPEN:
        return "the study is not open for reading"
    if assignment.state in DONE:
        return "this read is locked"
    now = now or timezone.now()
    session = assignment.session
    if session.opens_at and now < session.opens_at:
        return f"{session.name} opens on {session.opens_at:%Y-%m-%d %H:%M} UTC"
    return None
