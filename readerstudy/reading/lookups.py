"""The reader's assignment lookups, as explicit SQL (see :mod:`.rows` for why).

Each one selects an assignment of the reader (``r.user_id``) with the rows it is read with,
as ``select_related`` would: the study, the session and the prerequisite (the protocol's
facts), and for the workspace the case and its primary series. Identifiers out of an integer
column's range match nothing, as they do in a queryset. The aided lookup also carries the
assignment's condition (its study's row of that code) with its assistance configuration and
model: see :func:`condition_of`.
"""

from django.db import connection
from django.db.transaction import TransactionManagementError

from readerstudy.ai.models import ModelVersion
from readerstudy.cases.models import Case, Series
from readerstudy.studies.models import (
    Assignment,
    AssistanceConfig,
    ReaderStudy,
    ReadingSession,
    StudyCase,
    StudyCondition,
)

from .consent import PENDING_SQL
from .practice import PENDING_SQL as PRACTICE_PENDING_SQL
from .rows import Table, Tables, bigint

DRAFT, OPEN = ReaderStudy.Status.DRAFT, ReaderStudy.Status.OPEN
LOCKED = Assignment.State.LOCKED

_READ = (
    Table("a", Assignment),
    Table("s", ReaderStudy, "a", "study"),
    Table("se", ReadingSession, "a", "session"),
    Table("p", Assignment, "a", "prerequisite"),
)
_CASE = (Table("sc", StudyCase, "a", "study_case"), Table("c", Case, "sc", "case"))
READ = Tables(*_READ)  # what the protocol decides on
LISTED = Tables(*_READ, *_CASE)  # ``my_assignments``: + the case
WORKSPACE = Tables(*_READ, *_CASE, Table("ser", Series, "c", "primary_series"))  # + images
# The write paths' lookups: + the reader's pending consent version (``consent.check_pending``)
# and whether the practice rule is still to be met (``practice.check_pending``).
_PENDING = ("consent_pending", "practice_pending")
LOCKED_READ = Tables(*_READ, annotations=_PENDING)
LOCKED_WORKSPACE = Tables(
    *_READ, *_CASE, Table("ser", Series, "c", "primary_series"), annotations=_PENDING
)
AIDED = Tables(
    *_READ,
    Table("co", StudyCondition, "a", "study_condition"),
    Table("ac", AssistanceConfig, "co", "assistance"),
    Table("mv", ModelVersion, "ac", "model_version"),
    *_CASE,
)

_FROM = """
    FROM studies_assignment a
    JOIN studies_studyreader r ON r.id = a.reader_id
    JOIN studies_readerstudy s ON s.id = a.study_id
    JOIN studies_readingsession se ON se.id = a.session_id
    LEFT JOIN studies_assignment p ON p.id = a.prerequisite_id
"""
_JOIN_CASE = """
    JOIN studies_studycase sc ON sc.id = a.study_case_id
    JOIN cases_case c ON c.id = sc.case_id
"""
_JOIN_SERIES = "LEFT JOIN cases_series ser ON ser.id = c.primary_series_id"
_JOIN_ASSISTANCE = """
    LEFT JOIN studies_studycondition co ON co.study_id = a.study_id AND co.code = a.condition
    LEFT JOIN studies_assistanceconfig ac ON ac.condition_id = co.id
    LEFT JOIN ai_modelversion mv ON mv.id = ac.model_version_id
"""

_MINE_SQL = f"""
    SELECT {LISTED.columns} {_FROM} {_JOIN_CASE}
    WHERE a.id = %s AND r.user_id = %s AND s.status <> %s
"""
_MINE_WITH_IMAGES_SQL = f"""
    SELECT {WORKSPACE.columns} {_FROM} {_JOIN_CASE} {_JOIN_SERIES}
    WHERE a.id = %s AND r.user_id = %s AND s.status <> %s
"""
# The first unlocked assignment of the reader's order in an open study.
_NEXT_SQL = f"""
    SELECT {LISTED.columns} {_FROM} {_JOIN_CASE}
    WHERE r.user_id = %s AND a.study_id = %s AND s.status = %s AND a.state <> %s
    ORDER BY se."index", a.position
    LIMIT 1
"""
# Locked (FOR UPDATE of the assignment row only) where the database can lock rows.
_LOCKED_SQL = f"""
    SELECT {LOCKED_READ.columns}, {PENDING_SQL}, {PRACTICE_PENDING_SQL} {_FROM}
    WHERE a.id = %s AND r.user_id = %s
"""
_LOCKED_WORKSPACE_SQL = f"""
    SELECT {LOCKED_WORKSPACE.columns}, {PENDING_SQL}, {PRACTICE_PENDING_SQL}
    {_FROM} {_JOIN_CASE} {_JOIN_SERIES}
    WHERE a.id = %s AND r.user_id = %s
"""
_AIDED_SQL = f"""
    SELECT {AIDED.columns} {_FROM} {_JOIN_ASSISTANCE} {_JOIN_CASE}
    WHERE a.id = %s AND r.user_id = %s
"""


def mine(user_id: int, assignment_id: int, *, with_images=False) -> Assignment | None:
    """The reader's assignment in a study that is not a draft (as ``my_assignments``)."""
    if (pk := bigint(assignment_id)) is None:
        return None
    tables, sql = (WORKSPACE, _MINE_WITH_IMAGES_SQL) if with_images else (LISTED, _MINE_SQL)
    return tables.first(sql, [pk, user_id, DRAFT])


def next_unlocked(user_id: int, study_id: int) -> Assignment | None:
    """The first assignment of the reader's order in an open study that is not locked."""
    if (pk := bigint(study_id)) is None:
        return None
    return LISTED.first(_NEXT_SQL, [user_id, pk, OPEN, LOCKED])


def locked(user_id: int, assignment_id: int, *, workspace=False) -> Assignment | None:
    """The reader's assignment, its row locked until the transaction ends (as
    ``select_for_update(of=("self",))``); ``workspace``: with the case and its images; and
    its ``consent_pending`` (see :mod:`.consent`) and ``practice_pending`` (:mod:`.practice`)."""
    if connection.features.has_select_for_update and connection.get_autocommit():
        raise TransactionManagementError("a row lock needs a transaction (atomic)")
    if (pk := bigint(assignment_id)) is None:
        return None
    tables, sql = (
        (LOCKED_WORKSPACE, _LOCKED_WORKSPACE_SQL) if workspace else (LOCKED_READ, _LOCKED_SQL)
    )
    if connection.features.has_select_for_update_of:
        sql += " FOR UPDATE OF a"
    return tables.first(sql, [pk, user_id])


def aided(user_id: int, assignment_id: int) -> Assignment | None:
    """The reader's assignment with its condition's assistance configuration and model."""
    if (pk := bigint(assignment_id)) is None:
        return None
    return AIDED.first(_AIDED_SQL, [pk, user_id])


def condition_of(assignment: Assignment) -> StudyCondition | None:
    """The condition that :func:`aided` loaded with the assignment, or None where the study
    has no condition of its code."""
    return getattr(assignment, "study_condition", None)


def assistance_of(assignment: Assignment) -> AssistanceConfig | None:
    """The assistance configuration :func:`aided` loaded with an aided assignment's condition;
    None for an unaided read (nothing is shown)."""
    condition = condition_of(assignment)
    if condition is None or not condition.is_aided:
        return None
    return condition.assistance
