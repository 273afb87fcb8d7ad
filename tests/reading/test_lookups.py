"""The reading API's explicit-SQL lookups answer what the querysets they stand for answer.

Every field of every instance is compared, related ones included, with its Python type (aware
datetimes, decoded JSON, booleans), on SQLite and on PostgreSQL (``TEST_DATABASE_URL``).
"""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from readerstudy.ai.models import InferenceJob, InferenceOutput
from readerstudy.ai.selectors import latest_output
from readerstudy.reading import lookups, selectors, services
from readerstudy.reading.models import AnswerRevision
from readerstudy.reading.rows import Table, Tables
from readerstudy.studies import services as study_services
from readerstudy.studies.models import Assignment, Design, ReaderStudy, StudyCondition
from tests.factories import (
    ModelVersionFactory,
    ReaderFactory,
    cases_with_series,
    make_inference_output,
)

pytestmark = pytest.mark.django_db
ANSWER = {"diagnosis": "cvst_ich", "confidence": 80}
HUGE = 2**70


def _values(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def _same(got, expected, *relations: str) -> None:
    """``got`` and ``expected`` (and each dotted relation of them) have equal fields and types;
    ``got``'s related instances are already loaded."""
    assert type(got) is type(expected)
    assert _values(got) == _values(expected)
    assert [type(v) for v in _values(got).values()] == [type(v) for v in _values(expected).values()]
    for path in relations:
        a, b = got, expected
        for name in path.split("."):
            field = a._meta.get_field(name)
            assert field.is_cached(a), f"{path}: not loaded with the row"
            a, b = getattr(a, name), getattr(b, name)
        if b is None:
            assert a is None, path
        else:
            _same(a, b)


def _study(design, n_cases: int, readers, **assistance) -> ReaderStudy:
    study = study_services.create_study(title=str(design), design=design, randomization_seed=7)
    study_services.add_cases(study, cases_with_series(n_cases))
    for user in readers:
        study_services.enroll_reader(study, user)
    study_services.configure_assistance(study, model_version=ModelVersionFactory(), **assistance)
    return study_services.open_study(study, truth_pending_allowed=True)


@pytest.fixture
def studies(db):
    """Two readers in a sequential study (aided reads with prerequisites, heatmaps shown; one
    read locked, one started) and in an unaided-only study opened later."""
    readers = [ReaderFactory(), ReaderFactory()]
    first = _study(Design.SEQUENTIAL_PER_CASE, 3, readers, heatmaps=["gradcampp"])
    second = _study(Design.UNAIDED_ONLY, 2, readers, show_decision=False)
    reader = readers[0]
    unaided, _ = selectors.next_assignment(reader, first.pk)
    services.start(reader, unaided.pk)
    services.save_draft(reader, unaided.pk, {"diagnosis": "sich"}, active_ms=5)
    services.submit(reader, unaided.pk, ANSWER, client_request_id="r1", lock=True)
    aided, _ = selectors.next_assignment(reader, first.pk)
    services.start(reader, aided.pk)
    return (first, second), readers


LISTED = ("study", "session", "prerequisite", "study_case", "study_case.case")
IMAGES = (*LISTED, "study_case.case.primary_series")


def test_my_assignment_is_the_querysets_row_with_its_related_rows(studies):
    (_, second), readers = studies
    for user in readers:
        other = readers[1 - readers.index(user)]
        assignments = list(Assignment.objects.filter(reader__user=user))
        assert len(assignments) == 3 * 2 + 2
        for assignment in assignments:
            expected = selectors.my_assignments(user).select_related(
                "study_case__case__primary_series"
            )
            expected = expected.get(pk=assignment.pk)
            with CaptureQueriesContext(connection) as ctx:
                _same(lookups.mine(user.pk, assignment.pk), expected, *LISTED)
                _same(lookups.mine(user.pk, assignment.pk, with_images=True), expected, *IMAGES)
            assert len(ctx.captured_queries) == 2  # the related rows came with each row
            assert lookups.mine(other.pk, assignment.pk) is None
    ReaderStudy.objects.filter(pk=second.pk).update(status=ReaderStudy.Status.DRAFT)
    hidden = Assignment.objects.filter(study=second).first()
    assert not selectors.my_assignments(hidden.reader.user).filter(pk=hidden.pk).exists()
    assert lookups.mine(hidden.reader.user_id, hidden.pk) is None
    assert lookups.mine(hidden.reader.user_id, hidden.pk, with_images=True) is None
    assert not selectors.is_my_assignment(hidden.reader.user, hidden.pk)


def test_next_is_the_querysets_first_unlocked_assignment(studies):
    (first, second), readers = studies

    def expected(user, study):
        return (
            selectors.my_assignments(user, study.pk)
            .filter(study__status=ReaderStudy.Status.OPEN)
            .exclude(state=Assignment.State.LOCKED)
            .first()
        )

    for user in readers:
        for study in (first, second):
            _same(lookups.next_unlocked(user.pk, study.pk), expected(user, study), *LISTED)
    assert lookups.next_unlocked(readers[0].pk, first.pk).condition == "aided"  # after a lock
    study_services.close_study(second)
    assert expected(readers[0], second) is None
    assert lookups.next_unlocked(readers[0].pk, second.pk) is None


def test_the_locked_lookup_locks_the_row_only(studies):
    (first, _), readers = studies
    user = readers[0]
    assignment = Assignment.objects.filter(reader__user=user, study=first).first()
    expected = Assignment.objects.select_related(
        "study", "session", "prerequisite", "study_case__case__primary_series"
    ).get(pk=assignment.pk)
    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        _same(lookups.locked(user.pk, assignment.pk), expected, "study", "session", "prerequisite")
        _same(lookups.locked(user.pk, assignment.pk, workspace=True), expected, *IMAGES)
        assert lookups.locked(readers[1].pk, assignment.pk) is None
    statements = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 3
    for sql in statements:
        assert sql.endswith("FOR UPDATE OF a") == connection.features.has_select_for_update_of


@pytest.mark.django_db(transaction=True)
def test_the_locked_lookup_outside_a_transaction_is_an_error_as_select_for_update_is():
    def refused(lookup) -> bool:
        try:
            lookup()
        except TransactionManagementError:
            return True
        return False

    orm = refused(lambda: list(Assignment.objects.select_for_update().filter(pk=1)))
    assert orm == connection.features.has_select_for_update  # PostgreSQL: refused
    assert refused(lambda: lookups.locked(1, 1)) == orm
    with transaction.atomic():
        assert lookups.locked(1, 1) is None


def test_the_aided_lookup_carries_the_condition_and_its_assistance(studies):
    _, readers = studies
    user = readers[0]
    aided = 0
    for assignment in Assignment.objects.filter(reader__user=user):
        expected = Assignment.objects.select_related(
            "study", "session", "prerequisite", "study_case__case"
        ).get(pk=assignment.pk)
        got = lookups.aided(user.pk, assignment.pk)
        _same(got, expected, *LISTED)
        condition = StudyCondition.objects.select_related("assistance__model_version").get(
            study=assignment.study, code=assignment.condition
        )
        _same(lookups.condition_of(got), condition)
        if condition.is_aided:
            aided += 1
            _same(lookups.assistance_of(got), condition.assistance, "model_version")
            assert lookups.assistance_of(got).heatmaps == ["gradcampp"]  # JSON decoded
        else:
            assert lookups.assistance_of(got) is None  # unaided: nothing is shown
        assert lookups.aided(readers[1].pk, assignment.pk) is None
    assert aided == 3


def test_identifiers_out_of_range_match_nothing_without_a_query(studies):
    _, readers = studies
    user = readers[0]
    with CaptureQueriesContext(connection) as ctx, transaction.atomic():
        assert lookups.mine(user.pk, HUGE) is None
        assert lookups.mine(user.pk, -HUGE, with_images=True) is None
        assert lookups.next_unlocked(user.pk, HUGE) is None
        assert lookups.locked(user.pk, HUGE) is None
        assert lookups.aided(user.pk, HUGE) is None
        assert selectors.is_my_assignment(user, HUGE) is False
    assert [q for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]] == []
    assert list(selectors.my_assignments(user).filter(pk=HUGE)) == []  # as the queryset answers


def test_progress_is_my_studies(studies):
    (first, second), readers = studies
    for user in readers:
        got = selectors.my_study_progress(user)
        expected = list(selectors.my_studies(user))
        assert [(s.pk, s.total, s.locked) for s in got] == [
            (s.pk, s.total, s.locked) for s in expected
        ]
        for a, b in zip(got, expected, strict=True):
            _same(a, b)
    assert [(s.pk, s.total, s.locked) for s in selectors.my_study_progress(readers[0])] == [
        (second.pk, 2, 0),
        (first.pk, 6, 1),
    ]


def test_revision_lookups_are_the_querysets(studies):
    (first, _), readers = studies
    user = readers[0]
    for assignment in Assignment.objects.filter(reader__user=user, study=first):
        expected = list(AnswerRevision.objects.filter(assignment=assignment).order_by("number"))
        got = selectors.revisions_of(assignment)
        assert len(got) == len(expected)
        for a, b in zip(got, expected, strict=True):
            _same(a, b)
        last = selectors.last_revision(assignment.pk)
        if expected:
            _same(last, expected[-1])
            with transaction.atomic():
                rows = services._request_and_last(assignment, "r1")
            assert {r.pk for r in rows} == {
                r.pk for r in expected if r.client_request_id == "r1"
            } | {expected[-1].pk}
        else:
            assert last is None
    locked = Assignment.objects.get(reader__user=user, study=first, state="locked")
    assert [r.answers for r in selectors.my_revisions(user, locked.pk)] == [
        {"diagnosis": "sich"}, ANSWER, ANSWER,
    ]  # fmt: skip
    assert selectors.my_revisions(readers[1], locked.pk) is None


def test_latest_output_is_the_newest_succeeded_one(studies):
    (first, _), _ = studies
    version = first.assistance.model_version
    case = first.study_cases.first().case
    assert latest_output(series=case.primary_series, model_version=version) is None
    assert latest_output(series=None, model_version=version) is None
    older = make_inference_output(case, version, methods=())
    InferenceJob.objects.update(params_hash="earlier run")
    newer = make_inference_output(case, version, methods=())

    def expected():
        return (
            InferenceOutput.objects.filter(
                job__series=case.primary_series,
                job__model_version=version,
                job__status=InferenceJob.Status.SUCCEEDED,
            )
            .order_by("-created_at")
            .first()
        )

    for series in (case.primary_series, case.primary_series_id):
        _same(latest_output(series=series, model_version=version), expected())
    assert expected().pk == newer.pk
    InferenceJob.objects.filter(pk=newer.job_id).update(status=InferenceJob.Status.FAILED)
    _same(latest_output(series=case.primary_series, model_version=version), expected())
    assert expected().pk == older.pk


def test_tables_refuse_what_they_would_not_convert():
    with pytest.raises(ImproperlyConfigured, match="UUIDField"):
        Tables(Table("j", InferenceJob))
    with pytest.raises(ImproperlyConfigured, match="joined to an earlier table"):
        Tables(Table("a", Assignment), Table("s", ReaderStudy, "x", "study"))
    with pytest.raises(ImproperlyConfigured, match="joined to an earlier table"):
        Tables(Table("a", Assignment, "s", "study"))
