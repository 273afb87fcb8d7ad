"""The reading protocol's facts from the database: session opening, washout, order, prerequisites.

The rules are in :mod:`.protocol`; this module describes an assignment (loaded with its study,
session and prerequisite) as protocol facts, and loads the reader's other reads only when the
protocol needs them.
"""

from typing import Any

from django.db import connection
from django.db.models import Count, Max, Q
from django.utils import timezone

from readerstudy.studies.models import Assignment

from . import protocol

DONE = (Assignment.State.LOCKED,)

# Checked on every start of a pending read: explicit SQL (one table, no ORM compile).
_EARLIER_UNLOCKED_SQL = f"""
    SELECT 1 FROM studies_assignment
    WHERE reader_id = %s AND session_id = %s AND position < %s
        AND state NOT IN ({", ".join(["%s"] * len(DONE))})
    LIMIT 1
"""


def _earlier_unlocked(assignment: Assignment) -> bool:
    """Whether an earlier read of the assignment's session order is not locked."""
    params: list[int | str] = [
        assignment.reader_id, assignment.session_id, assignment.position, *DONE,
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_EARLIER_UNLOCKED_SQL, params)
        return cursor.fetchone() is not None


def read_facts(
    assignment: Assignment, now=None, *, assistance_shown=None, model_configured=False
) -> protocol.Read:
    """The assignment as protocol facts, from the rows loaded with it (its study, session and
    prerequisite: no query when the caller selected them)."""
    session = assignment.session
    study = assignment.study
    prerequisite = assignment.prerequisite if assignment.prerequisite_id else None
    return protocol.Read(
        state=str(assignment.state),
        condition=str(assignment.condition),
        study_status=str(study.status),
        session=protocol.Session(
            name=session.name,
            index=session.index,
            opens_at=session.opens_at,
            washout_days=session.washout_days,
        ),
        now=now or timezone.now(),
        prerequisite_locked=None if prerequisite is None else prerequisite.state in DONE,
        model_configured=model_configured,
        assistance_shown=assistance_shown,
    )


def order_facts(assignment: Assignment, *, earlier_locked=False) -> protocol.Order:
    """The reader's other reads that a read not yet started is checked against.

    ``earlier_locked``: the caller knows every earlier assignment of the reader is locked.
    """
    session = assignment.session
    previous: dict[str, Any] = {"unlocked": 0, "last": None}
    if session.index > 1 and not (earlier_locked and not session.washout_days):
        previous = Assignment.objects.filter(
            reader_id=assignment.reader_id, session__index=session.index - 1
        ).aggregate(unlocked=Count("pk", filter=~Q(state__in=DONE)), last=Max("locked_at"))
    earlier = not earlier_locked and _earlier_unlocked(assignment)
    return protocol.Order(
        previous_session_unlocked=not earlier_locked and bool(previous["unlocked"]),
        previous_session_last_lock=previous["last"],
        earlier_unlocked=earlier,
    )


def decide(
    action: str, assignment: Assignment, now=None, *, earlier_locked=False, assistance_shown=None
) -> protocol.Decision:
    """The protocol's decision on ``action``, loading the order facts only if it needs them."""
    read = read_facts(assignment, now, assistance_shown=assistance_shown)
    order = None
    if protocol.needs_order(action, read):
        order = order_facts(assignment, earlier_locked=earlier_locked)
    return protocol.decide(action, read, order)


def block_reason(assignment: Assignment, now=None, *, earlier_locked=False) -> str | None:
    """Why the reader cannot work on this assignment now, or None if they can.

    ``earlier_locked``: the caller found this assignment as the first unlocked one of the
    reader's order, so the order checks against earlier rows are already answered.
    """
    decision = decide(protocol.VIEW, assignment, now, earlier_locked=earlier_locked)
    return None if decision.allowed else decision.message


def started_block_reason(assignment: Assignment, now=None) -> str | None:
    """``block_reason`` for an assignment its reader has already started, without queries
    when it was loaded with its study, session and prerequisite.

    A started read is checked against its own state, study and session only (see
    :mod:`.protocol`).
    """
    return block_reason(assignment, now)
