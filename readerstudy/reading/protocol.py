"""The reading protocol: what a reader may do with an assignment, and why not.

Pure rules over plain facts (standard library only): the callers load the rows and describe
them here as :class:`Read` (the assignment, its study and session) and, for a read not yet
started, :class:`Order` (what it is checked against among the reader's other reads). Enum values
are passed as their strings. :func:`decide` answers every action with a :class:`Decision`: allowed
or not, a reason code and a message for the reader.

Starting checks the whole protocol. What it checked against other rows cannot change afterwards
(locks are final, orders and prerequisites are frozen when the study opens, a washout that has
passed stays passed), so a started read is only checked against its own state, its study's
status and its session's opening date, and needs no :class:`Order`.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

# Actions
VIEW = "view"  # may the reader work on it now (the "next" answer's blocked reason)
START = "start"  # start, or resume a started read
SAVE_DRAFT = "save_draft"
SUBMIT = "submit"  # an aided read's answer also needs the model output to have been shown
LOCK = "lock"
SEE_ASSISTANCE = "see_assistance"  # the model output of an aided read
ACTIONS = (VIEW, START, SAVE_DRAFT, SUBMIT, LOCK, SEE_ASSISTANCE)

# Values of the assignment's state, condition and the study's status
PENDING, IN_PROGRESS, SUBMITTED, LOCKED = "pending", "in_progress", "submitted", "locked"
STATES = (PENDING, IN_PROGRESS, SUBMITTED, LOCKED)
UNAIDED, AIDED = "unaided", "aided"  # every condition but unaided is aided


def is_aided(condition: str) -> bool:
    """Whether a read of ``condition`` shows model output (every condition but unaided)."""
    return condition != UNAIDED


OPEN = "open"

# Refusals that say the read is not available now (one API code, "not_available"); the others
# are answered with their own code.
AVAILABILITY = frozenset(
    {
        "study_not_open",
        "session_not_open",
        "previous_session_unlocked",
        "washout",
        "prerequisite_unlocked",
        "out_of_order",
    }
)


@dataclass(frozen=True)
class Session:
    name: str
    index: int  # 1-based
    opens_at: datetime | None = None
    washout_days: int = 0


@dataclass(frozen=True)
class Read:
    """One assignment as loaded with its study and session."""

    state: str
    condition: str
    study_status: str
    session: Session
    now: datetime
    prerequisite_locked: bool | None = None  # None: the read has no prerequisite
    model_configured: bool = False  # the study's assistance names a model version
    assistance_shown: bool | None = None  # aided submit only; None: not looked up


@dataclass(frozen=True)
class Order:
    """The reader's other reads, for a read not yet started."""

    previous_session_unlocked: bool = False  # a read of the previous session is not locked
    previous_session_last_lock: datetime | None = None
    earlier_unlocked: bool = False  # an earlier read of this session's order is not locked


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""  # a code; empty when allowed
    message: str = ""

    @property
    def error_code(self) -> str:
        """The code a refusal is answered with."""
        return "not_available" if self.reason in AVAILABILITY else self.reason


ALLOWED = Decision(True)


def _no(reason: str, message: str) -> Decision:
    return Decision(False, reason, message)


STUDY_NOT_OPEN = _no("study_not_open", "the study is not open for reading")
IS_LOCKED = _no("locked", "this read is locked")
NOT_STARTED = _no("not_started", "start the assignment first")
NOT_SUBMITTED = _no("not_submitted", "submit an answer before locking it")
PREVIOUS_SESSION = _no("previous_session_unlocked", "finish and lock the previous session first")
PREREQUISITE = _no("prerequisite_unlocked", "lock the previous read of this case first")
OUT_OF_ORDER = _no(
    "out_of_order", "cases are read in your assigned order: finish the earlier ones first"
)
NOT_SHOWN = _no(
    "assistance_not_shown",
    "the model output has not been shown for this read yet; an aided answer is only accepted "
    "after it was shown",
)
NOT_AIDED = _no("not_aided", "this read is not aided")
NO_MODEL = _no("no_model", "the study shows no model")


def _standing(read: Read) -> Decision | None:
    """What refuses any work on the read whatever the reader did before."""
    if read.study_status != OPEN:
        return STUDY_NOT_OPEN
    if read.state == LOCKED:
        return IS_LOCKED
    session = read.session
    if session.opens_at and read.now < session.opens_at:
        return _no(
            "session_not_open", f"{session.name} opens on {session.opens_at:%Y-%m-%d %H:%M} UTC"
        )
    return None


def needs_order(action: str, read: Read) -> bool:
    """Whether :func:`decide` needs an :class:`Order` (the caller loads it only then)."""
    return read.state == PENDING and action in (VIEW, START) and _standing(read) is None


def _ordered(read: Read, order: Order | None) -> Decision:
    """The whole protocol, for a read that is not locked."""
    refusal = _standing(read)
    if refusal is not None or read.state != PENDING:
        return refusal or ALLOWED
    if order is None:
        raise ValueError("a read not yet started is decided with its Order")
    session = read.session
    if session.index > 1:
        if order.previous_session_unlocked:
            return PREVIOUS_SESSION
        if session.washout_days and order.previous_session_last_lock:
            opens = order.previous_session_last_lock + timedelta(days=session.washout_days)
            if read.now < opens:
                return _no(
                    "washout", f"washout: {session.name} opens for you on {opens:%Y-%m-%d} UTC"
                )
    if read.prerequisite_locked is False:
        return PREREQUISITE
    if order.earlier_unlocked:
        return OUT_OF_ORDER
    return ALLOWED


def _started(read: Read) -> Decision | None:
    if read.state == PENDING:
        return NOT_STARTED
    if read.state == LOCKED:
        return IS_LOCKED
    return None


def _start(read: Read, order: Order | None) -> Decision:
    if read.state == LOCKED:
        return IS_LOCKED
    if read.state != PENDING:
        return ALLOWED  # resuming
    return _ordered(read, order)


def _save_draft(read: Read, order: Order | None) -> Decision:
    return _started(read) or _standing(read) or ALLOWED


def _submit(read: Read, order: Order | None) -> Decision:
    refusal = _started(read) or _standing(read)
    if refusal is not None:
        return refusal
    if is_aided(read.condition):
        if read.assistance_shown is None:
            raise ValueError("an aided answer is decided knowing whether assistance was shown")
        if not read.assistance_shown:
            return NOT_SHOWN
    return ALLOWED


def _lock(read: Read, order: Order | None) -> Decision:
    if read.state in (SUBMITTED, LOCKED):
        return ALLOWED  # locking a locked read answers with its lock
    return NOT_SUBMITTED


def _see_assistance(read: Read, order: Order | None) -> Decision:
    if not is_aided(read.condition):
        return NOT_AIDED
    if read.study_status != OPEN:
        return STUDY_NOT_OPEN
    if read.state == PENDING:
        return NOT_STARTED
    if read.prerequisite_locked is False:
        return PREREQUISITE
    if not read.model_configured:
        return NO_MODEL
    return ALLOWED


_RULES = {
    VIEW: _ordered,
    START: _start,
    SAVE_DRAFT: _save_draft,
    SUBMIT: _submit,
    LOCK: _lock,
    SEE_ASSISTANCE: _see_assistance,
}


def decide(action: str, read: Read, order: Order | None = None) -> Decision:
    """Whether the reader may do ``action`` on the read now, and why not."""
    rule = _RULES.get(action)
    if rule is None:
        raise ValueError(f"unknown action {action!r}")
    return rule(read, order)
