"""The reading protocol as a table: every scenario x state x action, decision and reason code."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from readerstudy.reading import protocol as P

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
FIRST = P.Session(name="Session 1", index=1)
SECOND = P.Session(name="Session 2", index=2, washout_days=14)

# Everything allowed: an open study, an open session, prerequisite locked, a model, output shown.
BASE = P.Read(
    state=P.PENDING, condition=P.AIDED, study_status=P.OPEN, session=FIRST, now=NOW,
    prerequisite_locked=True, model_configured=True, assistance_shown=True,
)  # fmt: skip
ORDER = P.Order()

OK = ""  # allowed
# Per scenario: the read and order facts, then per action the reason code in each state
# (pending, in_progress, submitted, locked); OK where the action is allowed.
SCENARIOS = {
    "all clear": (
        {}, {},
        {
            P.VIEW: (OK, OK, OK, "locked"),
            P.START: (OK, OK, OK, "locked"),
            P.SAVE_DRAFT: ("not_started", OK, OK, "locked"),
            P.SUBMIT: ("not_started", OK, OK, "locked"),
            P.LOCK: ("not_submitted", "not_submitted", OK, OK),
            P.SEE_ASSISTANCE: ("not_started", OK, OK, OK),
        },
    ),
    "study closed": (
        {"study_status": "closed"}, {},
        {
            P.VIEW: ("study_not_open",) * 4,
            P.START: ("study_not_open", OK, OK, "locked"),
            P.SAVE_DRAFT: ("not_started", "study_not_open", "study_not_open", "locked"),
            P.SUBMIT: ("not_started", "study_not_open", "study_not_open", "locked"),
            P.LOCK: ("not_submitted", "not_submitted", OK, OK),
            P.SEE_ASSISTANCE: ("study_not_open",) * 4,
        },
    ),
    "study draft": (
        {"study_status": "draft"}, {},
        {
            P.VIEW: ("study_not_open",) * 4,
            P.START: ("study_not_open", OK, OK, "locked"),
            P.SAVE_DRAFT: ("not_started", "study_not_open", "study_not_open", "locked"),
            P.SUBMIT: ("not_started", "study_not_open", "study_not_open", "locked"),
            P.LOCK: ("not_submitted", "not_submitted", OK, OK),
            P.SEE_ASSISTANCE: ("study_not_open",) * 4,
        },
    ),
    "session opens tomorrow": (
        {"session": replace(FIRST, opens_at=NOW + timedelta(days=1))}, {},
        {
            P.VIEW: ("session_not_open", "session_not_open", "session_not_open", "locked"),
            P.START: ("session_not_open", OK, OK, "locked"),
            P.SAVE_DRAFT: ("not_started", "session_not_open", "session_not_open", "locked"),
            P.SUBMIT: ("not_started", "session_not_open", "session_not_open", "locked"),
            P.LOCK: ("not_submitted", "not_submitted", OK, OK),
            P.SEE_ASSISTANCE: ("not_started", OK, OK, OK),
        },
    ),
    "session opened an hour ago": (
        {"session": replace(FIRST, opens_at=NOW - timedelta(hours=1))}, {},
        {
            P.VIEW: (OK, OK, OK, "locked"),
            P.START: (OK, OK, OK, "locked"),
            P.SAVE_DRAFT: ("not_started", OK, OK, "locked"),
            P.SUBMIT: ("not_started", OK, OK, "locked"),
            P.LOCK: ("not_submitted", "not_submitted", OK, OK),
            P.SEE_ASSISTANCE: ("not_started", OK, OK, OK),
        },
    ),
    "previous session not locked": (
        {"session": SECOND}, {"previous_session_unlocked": True},
        {
            P.VIEW: ("previous_session_unlocked", OK, OK, "locked"),
            P.START: ("previous_session_unlocked", OK, OK, "locked"),
            P.SAVE_DRAFT: ("not_started", OK, OK, "locked"),
            P.SUBMIT: ("not_started", OK, OK, "locked"),
            P.LOCK: ("not_submitted", "not_submitted", OK, OK),
            P.SEE_ASSISTANCE: ("not_started", OK, OK, OK),
        },
    ),
    "in the washout": (
        {"session": SECOND}, {"previous_session_last_lock": NOW - timedelta(days=3)},
        {
            P.VIEW: ("washout", OK, OK, "locked"),
            P.START: ("washout", OK, OK, "locked"),
            P.SAVE_DRAFT: ("not_started", OK, OK, "locked"),
            P.SUBMIT: ("not_started", OK, OK, "locked"),
            P.LOCK: ("not_submitted", "not_submitted", OK, OK),
            P.SEE_ASSISTANCE: ("not_started", OK, OK, OK),
        },
    ),
    "washout passed": (
        {"session": SECOND}, {"previous_session_last_lock": NOW - timedelta(days=15)},
        {
            P.VIEW: (OK, OK, OK, "locked"),
            P.START: (OK, OK, OK, "locked"),
            P.SAVE_DRAFT: ("not_started", OK, OK, "locked"),
            P.SUBMIT: ("not_started", OK, OK, "locked"),
            P.LOCK: ("not_submitted", "not_submitted", OK, OK),
            P.SEE_ASSISTANCE: ("not_started", OK, OK, OK),
        },
    ),
    "first session ignores the previous one": (
        {}, {"previous_session_unlocked": True, "previous_session_last_lock": NOW},
        {
            P.VIEW: (OK, OK, OK, "locked"),
            P.START: (OK, OK, OK, "locked"),
            P.SAVE_DRAFT: ("not_started", OK, OK, "locked"),
            P.SUBMIT: ("not_started", OK, OK, "locked"),
            P.LOCK: ("not_submitted", "not_submitted", OK, OK),
            P.SEE_ASSISTANCE: ("not_started", OK, OK, OK),
        },
    ),
    "prerequisite not locked": (
        {"prerequisite_locked": False}, {},
        {
            P.VIEW: ("prerequisite_unlocked", OK, OK, "locked"),
            P.START: ("prerequisite_unlocked", OK, OK, "locked"),
            P.SAVE_DRAFT: ("not_started", OK, OK, "locked"),
            P.SUBMIT: ("not_started", OK, OK, "locked"),
            P.LOCK: ("not_submitted", "not_submitted", OK, OK),
            P.SEE_ASSISTANCE: ("not_started", "prerequisite_unlocked", "prerequisite_unlocked",
                               "prerequisite_unlocked"),
        },
    ),
    "no prerequisite": (
        {"prerequisite_locked": None}, {},
        {
            P.VIEW: (OK, OK, OK, "locked"),
            P.START: (OK, OK, OK, "locked"),
            P.SAVE_DRAFT: ("not_started", OK, OK, "locked"),
            P.SUBMIT: ("not_started", OK, OK, "locked"),
            P.LOCK: ("not_submitted", "not_submitted", OK, OK),
            P.SEE_ASSISTANCE: ("not_started", OK, OK, OK),
        },
    ),
    "an earlier read not locked": (
        {}, {"earlier_unlocked": True},
        {
            P.VIEW: ("out_of_order", OK, OK, "locked"),
            P.START: ("out_of_order", OK, OK, "locked"),
            P.SAVE_DRAFT: ("not_started", OK, OK, "locked"),
            P.SUBMIT: ("not_started", OK, OK, "locked"),
            P.LOCK: ("not_submitted", "not_submitted", OK, OK),
            P.SEE_ASSISTANCE: ("not_started", OK, OK, OK),
        },
    ),
    "aided output not shown yet": (
        {"assistance_shown": False}, {},
        {
            P.VIEW: (OK, OK, OK, "locked"),
            P.START: (OK, OK, OK, "locked"),
            P.SAVE_DRAFT: ("not_started", OK, OK, "locked"),
            P.SUBMIT: ("not_started", "assistance_not_shown", "assistance_not_shown", "locked"),
            P.LOCK: ("not_submitted", "not_submitted", OK, OK),
            P.SEE_ASSISTANCE: ("not_started", OK, OK, OK),
        },
    ),
    "unaided read": (
        {"condition": P.UNAIDED, "assistance_shown": False, "prerequisite_locked": None}, {},
        {
            P.VIEW: (OK, OK, OK, "locked"),
            P.START: (OK, OK, OK, "locked"),
            P.SAVE_DRAFT: ("not_started", OK, OK, "locked"),
            P.SUBMIT: ("not_started", OK, OK, "locked"),
            P.LOCK: ("not_submitted", "not_submitted", OK, OK),
            P.SEE_ASSISTANCE: ("not_aided",) * 4,
        },
    ),
    "no model configured": (
        {"model_configured": False}, {},
        {
            P.VIEW: (OK, OK, OK, "locked"),
            P.START: (OK, OK, OK, "locked"),
            P.SAVE_DRAFT: ("not_started", OK, OK, "locked"),
            P.SUBMIT: ("not_started", OK, OK, "locked"),
            P.LOCK: ("not_submitted", "not_submitted", OK, OK),
            P.SEE_ASSISTANCE: ("not_started", "no_model", "no_model", "no_model"),
        },
    ),
    "closed, outside the session and out of order": (
        {"study_status": "closed", "session": replace(SECOND, opens_at=NOW + timedelta(days=1)),
         "prerequisite_locked": False},
        {"previous_session_unlocked": True, "earlier_unlocked": True},
        {
            P.VIEW: ("study_not_open",) * 4,
            P.START: ("study_not_open", OK, OK, "locked"),
            P.SAVE_DRAFT: ("not_started", "study_not_open", "study_not_open", "locked"),
            P.SUBMIT: ("not_started", "study_not_open", "study_not_open", "locked"),
            P.LOCK: ("not_submitted", "not_submitted", OK, OK),
            P.SEE_ASSISTANCE: ("study_not_open",) * 4,
        },
    ),
    "session closed and previous session open": (
        {"session": replace(SECOND, opens_at=NOW + timedelta(days=1))},
        {"previous_session_unlocked": True},
        {
            P.VIEW: ("session_not_open", "session_not_open", "session_not_open", "locked"),
            P.START: ("session_not_open", OK, OK, "locked"),
            P.SAVE_DRAFT: ("not_started", "session_not_open", "session_not_open", "locked"),
            P.SUBMIT: ("not_started", "session_not_open", "session_not_open", "locked"),
            P.LOCK: ("not_submitted", "not_submitted", OK, OK),
            P.SEE_ASSISTANCE: ("not_started", OK, OK, OK),
        },
    ),
    "previous session open, prerequisite and order too": (
        {"session": SECOND, "prerequisite_locked": False},
        {"previous_session_unlocked": True, "earlier_unlocked": True},
        {
            P.VIEW: ("previous_session_unlocked", OK, OK, "locked"),
            P.START: ("previous_session_unlocked", OK, OK, "locked"),
            P.SAVE_DRAFT: ("not_started", OK, OK, "locked"),
            P.SUBMIT: ("not_started", OK, OK, "locked"),
            P.LOCK: ("not_submitted", "not_submitted", OK, OK),
            P.SEE_ASSISTANCE: ("not_started", "prerequisite_unlocked", "prerequisite_unlocked",
                               "prerequisite_unlocked"),
        },
    ),
    "prerequisite and order": (
        {"prerequisite_locked": False}, {"earlier_unlocked": True},
        {
            P.VIEW: ("prerequisite_unlocked", OK, OK, "locked"),
            P.START: ("prerequisite_unlocked", OK, OK, "locked"),
            P.SAVE_DRAFT: ("not_started", OK, OK, "locked"),
            P.SUBMIT: ("not_started", OK, OK, "locked"),
            P.LOCK: ("not_submitted", "not_submitted", OK, OK),
            P.SEE_ASSISTANCE: ("not_started", "prerequisite_unlocked", "prerequisite_unlocked",
                               "prerequisite_unlocked"),
        },
    ),
}  # fmt: skip

ROWS = [
    pytest.param(read, order, state, action, expected, id=f"{name}-{state}-{action}")
    for name, (read, order, expected_by_action) in SCENARIOS.items()
    for action, by_state in expected_by_action.items()
    for state, expected in zip(P.STATES, by_state, strict=True)
]


def test_every_scenario_answers_every_action_in_every_state():
    for name, (_, _, by_action) in SCENARIOS.items():
        assert set(by_action) == set(P.ACTIONS), name


@pytest.mark.parametrize(("read", "order", "state", "action", "expected"), ROWS)
def test_protocol_table(read, order, state, action, expected):
    facts = replace(BASE, state=state, **read)
    order_facts = replace(ORDER, **order) if P.needs_order(action, facts) else None
    decision = P.decide(action, facts, order_facts)
    assert (decision.allowed, decision.reason) == (expected == OK, expected)
    assert bool(decision.message) == (expected != OK)


def test_order_facts_are_needed_only_to_start_or_view_a_pending_read_that_may_be_worked_on():
    assert P.needs_order(P.START, BASE) and P.needs_order(P.VIEW, BASE)
    for action in (P.SAVE_DRAFT, P.SUBMIT, P.LOCK, P.SEE_ASSISTANCE):
        assert not P.needs_order(action, BASE)
    for state in (P.IN_PROGRESS, P.SUBMITTED, P.LOCKED):
        assert not P.needs_order(P.VIEW, replace(BASE, state=state))
    assert not P.needs_order(P.START, replace(BASE, study_status="closed"))
    with pytest.raises(ValueError, match="Order"):
        P.decide(P.START, BASE)


def test_an_aided_answer_is_not_decided_without_knowing_what_was_shown():
    with pytest.raises(ValueError, match="shown"):
        P.decide(P.SUBMIT, replace(BASE, state=P.IN_PROGRESS, assistance_shown=None))
    with pytest.raises(ValueError, match="unknown action"):
        P.decide("delete", BASE, ORDER)


def test_messages_name_the_session_and_dates():
    session = replace(SECOND, opens_at=datetime(2026, 3, 11, 8, 30, tzinfo=UTC))
    closed = P.decide(P.VIEW, replace(BASE, session=session), ORDER)
    assert closed.message == "Session 2 opens on 2026-03-11 08:30 UTC"
    washout = P.decide(
        P.START, replace(BASE, session=SECOND), P.Order(previous_session_last_lock=NOW)
    )
    assert washout.message == "washout: Session 2 opens for you on 2026-03-24 UTC"


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("study_not_open", "not_available"), ("session_not_open", "not_available"),
        ("previous_session_unlocked", "not_available"), ("washout", "not_available"),
        ("prerequisite_unlocked", "not_available"), ("out_of_order", "not_available"),
        ("locked", "locked"), ("not_started", "not_started"), ("not_submitted", "not_submitted"),
        ("assistance_not_shown", "assistance_not_shown"),
    ],
)  # fmt: skip
def test_refusals_are_answered_with_a_stable_code(reason, code):
    assert P.Decision(False, reason, "m").error_code == code
