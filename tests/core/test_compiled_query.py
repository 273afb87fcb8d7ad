"""CompiledQuery answers exactly what its queryset answers, from SQL compiled once."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import Count, Q
from django.test.utils import CaptureQueriesContext

from readerstudy.core.compiled import CompiledQuery
from readerstudy.reading import services
from readerstudy.reading.models import AnswerRevision
from readerstudy.reading.selectors import next_assignment
from readerstudy.studies.models import Assignment, Design, ReaderStudy

pytestmark = pytest.mark.django_db

ANSWER = {"diagnosis": "cvst_ich", "confidence": 80}


def _assignments(user, study):
    return (
        Assignment.objects.filter(reader__user=user, study_id=study)
        .select_related("study", "session", "study_case__case", "prerequisite")
        .order_by("session__index", "position")
    )


@pytest.fixture
def two_studies(make_study):
    first, readers = make_study(Design.SEQUENTIAL_PER_CASE, n_cases=3, n_readers=2)
    second, others = make_study(Design.UNAIDED_ONLY, n_cases=2, n_readers=1)
    return (first, second), (*readers, *others)


def test_rows_and_related_objects_match_the_queryset(two_studies):
    studies, users = two_studies
    query = CompiledQuery(_assignments, user=int, study=int)
    for user in users:
        for study in studies:
            expected = list(_assignments(user.pk, study.pk))
            with CaptureQueriesContext(connection) as ctx:
                got = query.all(user=user.pk, study=study.pk)
                seen = [
                    (a.pk, a.state, a.position, a.study.title, a.session.name,
                     a.study_case.case.code, a.prerequisite_id and a.prerequisite.state)
                    for a in got
                ]  # fmt: skip
            assert len(ctx.captured_queries) == 1  # related objects came with the row
            assert seen == [
                (a.pk, a.state, a.position, a.study.title, a.session.name,
                 a.study_case.case.code, a.prerequisite_id and a.prerequisite.state)
                for a in expected
            ]  # fmt: skip
    assert query.all(user=users[0].pk, study=studies[1].pk) == []


def test_annotations_and_repeated_parameters(two_studies):
    studies, users = two_studies

    def progress(user):
        mine = Q(assignments__reader__user=user)
        return (
            ReaderStudy.objects.filter(readers__user=user)
            .annotate(
                total=Count("assignments", filter=mine),
                locked=Count("assignments", filter=mine & Q(assignments__state="locked")),
            )
            .order_by("pk")
        )

    query = CompiledQuery(progress, user=int)
    reader = users[0]
    unaided, _ = next_assignment(reader, studies[0].pk)
    services.start(reader, unaided.pk)
    services.submit(reader, unaided.pk, ANSWER, client_request_id="a", lock=True)
    for user in users:
        got = [(s.pk, s.total, s.locked) for s in query.all(user=user.pk)]
        assert got == [(s.pk, s.total, s.locked) for s in progress(user.pk)]
    assert [(s.total, s.locked) for s in query.all(user=reader.pk)] == [(6, 1)]


def test_converters_are_applied_and_text_parameters_bind(two_studies):
    studies, users = two_studies
    reader = users[2]
    assignment = Assignment.objects.filter(study=studies[1], reader__user=reader).first()
    services.start(reader, assignment.pk)
    services.save_draft(reader, assignment.pk, {"diagnosis": "sich", "confidence": 7})
    query = CompiledQuery(
        lambda pk, rid: AnswerRevision.objects.filter(assignment_id=pk, client_request_id=rid),
        pk=int,
        rid=str,
    )
    assert query.all(pk=assignment.pk, rid="nope") == []
    services.submit(reader, assignment.pk, ANSWER, client_request_id="r-1")
    (revision,) = query.all(pk=assignment.pk, rid="r-1")
    assert revision.answers == ANSWER  # JSON decoded, as the ORM does
    assert revision.server_time.tzinfo is not None


def test_the_queryset_is_built_and_compiled_once(two_studies):
    studies, users = two_studies
    builds = []

    def build(user, study):
        builds.append((user, study))
        return _assignments(user, study)

    query = CompiledQuery(build, user=int, study=int)
    for user in users:
        query.all(user=user.pk, study=studies[0].pk)
    # Twice with stand-ins on first use (to find the parameters), never with a caller's values.
    assert len(builds) == 2
    assert all(value >= 20_000 for pair in builds for value in pair)


def test_comparison_lookups_on_small_positive_columns(two_studies):
    studies, users = two_studies
    query = CompiledQuery(
        lambda reader, position: Assignment.objects.filter(
            reader__user=reader, position__lt=position
        ).order_by("pk"),
        reader=int,
        position=int,
    )
    for position in (0, 1, 3):
        expected = Assignment.objects.filter(reader__user=users[0], position__lt=position)
        got = query.all(reader=users[0].pk, position=position)
        assert [a.pk for a in got] == list(expected.order_by("pk").values_list("pk", flat=True))


def test_select_for_update_keeps_its_lock_clause(two_studies):
    studies, users = two_studies
    query = CompiledQuery(
        lambda pk: Assignment.objects.select_for_update(of=("self",)).filter(pk=pk)[:1],
        pk=int,
    )
    target = Assignment.objects.filter(study=studies[0]).first()
    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        assert query.first(pk=target.pk).pk == target.pk
    sql = [q["sql"] for q in ctx.captured_queries if "studies_assignment" in q["sql"]][0]
    assert ("FOR UPDATE" in sql) == connection.features.has_select_for_update


def test_out_of_range_integers_find_nothing_without_a_query(two_studies):
    query = CompiledQuery(lambda pk: Assignment.objects.filter(pk=pk), pk=int)
    with CaptureQueriesContext(connection) as ctx:
        assert query.all(pk=2**70) == []
        assert query.first(pk=-(2**64)) is None
    assert ctx.captured_queries == []
    assert list(Assignment.objects.filter(pk=2**70)) == []  # what Django answers too


def test_a_placeholder_that_does_not_reach_the_sql_is_refused(db):
    query = CompiledQuery(
        lambda code: Assignment.objects.filter(study_case__case__code__icontains=code),
        code=str,
    )
    with pytest.raises(ImproperlyConfigured, match="was transformed on its way to the SQL"):
        query.all(code="B")
    unused = CompiledQuery(lambda pk, other: Assignment.objects.filter(pk=pk), pk=int, other=int)
    with pytest.raises(ImproperlyConfigured, match="'other' does not reach the SQL unchanged"):
        unused.all(pk=1, other=2)
    sliced = CompiledQuery(lambda n: Assignment.objects.all()[:n], n=int)
    with pytest.raises(ImproperlyConfigured, match="change the shape of the SQL"):
        sliced.all(n=3)


def test_parameters_must_be_the_declared_ones(db):
    query = CompiledQuery(lambda pk: Assignment.objects.filter(pk=pk), pk=int)
    with pytest.raises(TypeError, match="expected parameters"):
        query.all(id=1)
    with pytest.raises(ImproperlyConfigured, match="only int and str parameters"):
        CompiledQuery(lambda pk: Assignment.objects.filter(pk=pk), pk=float)
    with pytest.raises(ImproperlyConfigured, match="at least one parameter"):
        CompiledQuery(lambda: Assignment.objects.all())
    with pytest.raises(ImproperlyConfigured, match="must select model instances"):
        CompiledQuery(lambda pk: Assignment.objects.filter(pk=pk).values("pk"), pk=int).all(pk=1)
