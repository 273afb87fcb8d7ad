from collections import Counter

import pytest

from readerstudy.studies import services
from readerstudy.studies.errors import ProtocolConflict, StudyError
from readerstudy.studies.models import Assignment, Design, ReaderStudy
from readerstudy.studies.randomization import derive_seed, seeded_order

pytestmark = pytest.mark.django_db


def _reads(study, user):
    return list(
        Assignment.objects.filter(study=study, reader__user=user)
        .order_by("session__index", "position")
        .values_list("session__index", "position", "study_case__case__code", "condition")
    )


def test_sequential_design_pairs_unaided_then_aided_per_case(make_study):
    study, (reader, _) = make_study(Design.SEQUENTIAL_PER_CASE, n_cases=5)
    reads = _reads(study, reader)
    assert len(reads) == 10
    assert [r[3] for r in reads] == ["unaided", "aided"] * 5
    assert [r[1] for r in reads] == list(range(10))
    for unaided, aided in zip(reads[::2], reads[1::2]):
        assert unaided[2] == aided[2]  # same case, immediately after
    for aided in Assignment.objects.filter(study=study, reader__user=reader, condition="aided"):
        assert aided.prerequisite.study_case_id == aided.study_case_id
        assert aided.prerequisite.condition == "unaided"


def test_two_sessions_have_their_own_orders_and_washout(make_study):
    study, (reader, _) = make_study(Design.TWO_SESSIONS, n_cases=12, washout_days=28)
    reads = _reads(study, reader)
    session1 = [r[2] for r in reads if r[0] == 1]
    session2 = [r[2] for r in reads if r[0] == 2]
    assert {r[3] for r in reads if r[0] == 1} == {"unaided"}
    assert {r[3] for r in reads if r[0] == 2} == {"aided"}
    assert sorted(session1) == sorted(session2)
    assert session1 != session2  # a different random order per session (12! orders)
    assert study.sessions.get(index=2).washout_days == 28


def test_crossover_reads_each_case_once_per_period_in_opposite_conditions(make_study):
    study, readers = make_study(Design.CROSSOVER, n_cases=10, n_readers=4, washout_days=14)
    groups = Counter(study.study_cases.values_list("group", flat=True))
    assert groups == {"A": 5, "B": 5}
    arms = Counter(study.readers.values_list("arm__name", flat=True))
    assert arms == {"AB": 2, "BA": 2}
    for user in readers:
        reads = _reads(study, user)
        assert len(reads) == 20
        by_case = {}
        for session, _, code, condition in reads:
            by_case.setdefault(code, {})[session] = condition
        assert all(set(v.values()) == {"aided", "unaided"} for v in by_case.values())
        period1_aided = sum(1 for v in by_case.values() if v[1] == "aided")
        assert period1_aided == 5  # half the cases aided in period 1
    assert not Assignment.objects.filter(study=study, prerequisite__isnull=False).exists()


def test_unaided_only_design_has_no_aided_reads_and_needs_no_model(db):
    from tests.factories import ReaderFactory, cases_with_series

    study = services.create_study(
        title="vs model", design=Design.UNAIDED_ONLY, randomization_seed=5
    )
    services.add_cases(study, cases_with_series(3))
    services.enroll_reader(study, ReaderFactory())
    services.open_study(study, truth_pending_allowed=True)
    assert set(Assignment.objects.filter(study=study).values_list("condition", flat=True)) == {
        "unaided"
    }


def test_orders_are_reproducible_from_the_stored_seed(make_study):
    study, (reader, _) = make_study(Design.TWO_SESSIONS, n_cases=8, seed=99)
    rows = Assignment.objects.filter(study=study, reader__user=reader, session__index=1).order_by(
        "position"
    )
    stored = [a.study_case.case.code for a in rows]
    seed = rows[0].seed
    assert all(a.seed == seed for a in rows)
    sr = study.readers.get(user=reader)
    assert sr.order_seed == derive_seed(99, "reader", reader.pk)
    assert seed == derive_seed(sr.order_seed, "session", 1)
    assert seeded_order(seed, sorted(stored)) == stored


def test_different_readers_get_different_orders(make_study):
    study, (a, b) = make_study(Design.UNAIDED_ONLY, n_cases=10)
    assert [r[2] for r in _reads(study, a)] != [r[2] for r in _reads(study, b)]


def test_design_freezes_once_open_and_orders_survive_later_edits(make_study):
    from tests.factories import ReaderFactory, cases_with_series

    study, (reader, _) = make_study(Design.UNAIDED_ONLY, n_cases=4)
    before = _reads(study, reader)
    with pytest.raises(ProtocolConflict, match="can no longer change"):
        services.add_cases(study, cases_with_series(1))
    with pytest.raises(ProtocolConflict):
        services.enroll_reader(study, ReaderFactory())
    with pytest.raises(ProtocolConflict):
        services.set_questions(study, [])
    study.title = "renamed"  # metadata edits do not touch the stored orders
    study.save()
    assert _reads(study, reader) == before


def test_opening_refuses_incomplete_studies(db):
    from tests.factories import ReaderFactory, cases_with_series

    study = services.create_study(
        title="t", design=Design.SEQUENTIAL_PER_CASE, randomization_seed=1
    )
    with pytest.raises(StudyError, match="at least one case"):
        services.open_study(study, truth_pending_allowed=True)
    services.add_cases(study, cases_with_series(2))
    with pytest.raises(StudyError, match="at least one reader"):
        services.open_study(study, truth_pending_allowed=True)
    services.enroll_reader(study, ReaderFactory())
    with pytest.raises(StudyError, match="model version"):
        services.open_study(study, truth_pending_allowed=True)
    study.refresh_from_db()
    assert study.status == ReaderStudy.Status.DRAFT
    assert not Assignment.objects.filter(study=study).exists()


def test_only_readers_can_be_enrolled(db):
    from tests.factories import CoordinatorFactory

    study = services.create_study(title="t", design=Design.UNAIDED_ONLY, randomization_seed=1)
    with pytest.raises(StudyError, match="reader role"):
        services.enroll_reader(study, CoordinatorFactory())


def test_unknown_design_and_bad_questions_are_refused(db):
    with pytest.raises(StudyError, match="unknown design"):
        services.create_study(title="t", design="free-for-all")
    study = services.create_study(title="t", design=Design.UNAIDED_ONLY, randomization_seed=1)
    with pytest.raises(StudyError, match="exactly two options"):
        services.set_questions(
            study, [{"code": "dx", "type": "binary", "options": [{"value": "a", "label": "A"}]}]
        )
    assert study.questions.count() == 4  # the previous set is kept (nothing half-stored)
