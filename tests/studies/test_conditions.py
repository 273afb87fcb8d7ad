"""Studies with k conditions: the designs' schedules, the generated orders, the services."""

from collections import Counter
from itertools import product

import pytest

from readerstudy.studies import conditions, services
from readerstudy.studies.designs import (
    DESIGNS,
    DesignError,
    ScheduleSpec,
    SessionSpec,
    design_spec,
)
from readerstudy.studies.errors import ProtocolConflict, StudyError
from readerstudy.studies.models import Assignment, Design, ScheduleEntry
from readerstudy.studies.randomization import balanced_split, derive_seed, seeded_order
from tests.factories import ModelVersionFactory, ReaderFactory, cases_with_series

U, A = "unaided", "aided"
THREE = ["unaided", "probability", "heatmaps"]

# The designs as the platform generated them with one aided condition, written out: the
# generalised designs must answer exactly these for the default conditions.
TWO_CONDITION_DESIGNS = {
    "sequential": (
        (SessionSpec(1, "Reading", False),),
        (ScheduleSpec("all", 1, "", U, 0), ScheduleSpec("all", 1, "", A, 1)),
        False, True,
    ),
    "two_sessions": (
        (SessionSpec(1, "Unaided session", False), SessionSpec(2, "Aided session", True)),
        (ScheduleSpec("all", 1, "", U), ScheduleSpec("all", 2, "", A)),
        False, True,
    ),
    "crossover": (
        (SessionSpec(1, "Period 1", False), SessionSpec(2, "Period 2", True)),
        (
            ScheduleSpec("AB", 1, "A", A), ScheduleSpec("AB", 1, "B", U),
            ScheduleSpec("AB", 2, "A", U), ScheduleSpec("AB", 2, "B", A),
            ScheduleSpec("BA", 1, "A", U), ScheduleSpec("BA", 1, "B", A),
            ScheduleSpec("BA", 2, "A", A), ScheduleSpec("BA", 2, "B", U),
        ),
        True, False,
    ),
    "unaided_only": (
        (SessionSpec(1, "Reading", False),), (ScheduleSpec("all", 1, "", U),), False, True,
    ),
}  # fmt: skip


@pytest.mark.parametrize("design", list(TWO_CONDITION_DESIGNS))
def test_two_conditions_give_the_designs_as_before(design):
    sessions, schedule, groups, chained = TWO_CONDITION_DESIGNS[design]
    codes = [U] if design == "unaided_only" else [U, A]
    for spec in (design_spec(design, codes), DESIGNS[design]):
        assert (spec.sessions, spec.schedule) == (sessions, schedule)
        assert (spec.crossover_groups, spec.chained) == (groups, chained)


def _cell(spec, arm, period, group):
    (entry,) = [
        e for e in spec.schedule if (e.arm, e.session, e.case_group) == (arm, period, group)
    ]
    return entry.condition


@pytest.mark.parametrize("k", [3, 4])
def test_crossover_of_k_conditions_is_a_latin_square(k):
    codes = [U, *[f"c{i}" for i in range(1, k)]]
    spec = design_spec(Design.CROSSOVER, codes)
    groups = spec.case_groups
    assert len(spec.sessions) == len(spec.arms) == len(groups) == k
    assert [s.after_washout for s in spec.sessions] == [False] + [True] * (k - 1)
    for arm in spec.arms:
        for group in groups:  # each case group sees each condition once per arm
            assert sorted(_cell(spec, arm, p, group) for p in range(1, k + 1)) == sorted(codes)
        for period in range(1, k + 1):  # each period reads every condition once
            assert sorted(_cell(spec, arm, period, g) for g in groups) == sorted(codes)
    for period, group in product(range(1, k + 1), groups):  # across arms: a Latin square too
        assert sorted(_cell(spec, arm, period, group) for arm in spec.arms) == sorted(codes)


def test_crossover_arms_are_named_by_their_sequence():
    assert design_spec(Design.CROSSOVER, THREE).arms == ("ABC", "BCA", "CAB")
    spec = design_spec(Design.CROSSOVER, THREE)
    for arm in spec.arms:  # the letters are the conditions the last case group reads
        letters = [THREE.index(_cell(spec, arm, p, "C")) for p in (1, 2, 3)]
        assert "".join("ABC"[i] for i in letters) == arm


def test_sequential_and_sessions_designs_of_three_conditions():
    seq = design_spec(Design.SEQUENTIAL_PER_CASE, THREE)
    assert [(e.condition, e.step) for e in seq.schedule] == [(c, i) for i, c in enumerate(THREE)]
    assert len(seq.sessions) == 1 and seq.chained
    names = {"probability": "Probability", "heatmaps": "Probability + heatmaps"}
    sessions = design_spec(Design.TWO_SESSIONS, THREE, names)
    assert [s.name for s in sessions.sessions] == [
        "Unaided session", "Probability session", "Probability + heatmaps session",
    ]  # fmt: skip
    assert [e.condition for e in sessions.schedule] == THREE


@pytest.mark.parametrize(
    ("design", "codes", "message"),
    [
        (Design.SEQUENTIAL_PER_CASE, [U], "needs 2 to 8 conditions"),
        (Design.CROSSOVER, [A, U], "unaided condition comes first"),
        (Design.TWO_SESSIONS, [U, A, A], "must be unique"),
        (Design.UNAIDED_ONLY, [U, A], "exactly one condition"),
        (Design.CROSSOVER, [U, *[f"c{i}" for i in range(8)]], "needs 2 to 8"),
        ("free", [U, A], "unknown design"),
    ],
)
def test_conditions_that_do_not_fit_the_design_are_refused(design, codes, message):
    with pytest.raises(DesignError, match=message):
        design_spec(design, codes)


def test_balanced_split_into_k_groups_is_the_two_group_split_for_two():
    keys = [f"case{i}" for i in range(11)]
    assert balanced_split(5, keys) == balanced_split(5, keys, ("A", "B"))
    sizes = Counter(balanced_split(5, keys, ("A", "B", "C")).values())
    assert sorted(sizes.values()) == [3, 4, 4]


# --- studies -----------------------------------------------------------------------------------


def _three(design, *, n_cases=6, n_readers=3, seed=77):
    model = ModelVersionFactory()
    study = services.create_study(
        title="three", design=design, randomization_seed=seed, washout_days=7,
        conditions=[
            {"code": U, "name": "Unaided"},
            {"code": "probability", "name": "Probability", "assistance": {
                "model_version": model, "heatmaps": [], "show_mask_outline": False}},
            {"code": "heatmaps", "name": "Probability + heatmaps", "assistance": {
                "model_version": model, "heatmaps": ["gradcampp"]}},
        ],
    )  # fmt: skip
    services.add_cases(study, cases_with_series(n_cases))
    readers = [ReaderFactory() for _ in range(n_readers)]
    for user in readers:
        services.enroll_reader(study, user)
    return services.open_study(study, truth_pending_allowed=True), readers


def _reads(study, user):
    return list(
        Assignment.objects.filter(study=study, reader__user=user)
        .order_by("session__index", "position")
        .values_list("session__index", "study_case__case__code", "condition", "study_case__group")
    )


@pytest.mark.django_db
def test_a_three_condition_crossover_reads_every_case_once_per_condition():
    study, readers = _three(Design.CROSSOVER, n_cases=7, n_readers=4)
    assert list(study.conditions.values_list("code", flat=True)) == THREE
    groups = dict(study.study_cases.values_list("case__code", "group"))
    assert sorted(Counter(groups.values()).values()) == [2, 2, 3]  # balanced over A, B, C
    assert groups == balanced_split(
        derive_seed(study.randomization_seed, "case-groups"), sorted(groups), ("A", "B", "C")
    )
    arms = Counter(study.readers.values_list("arm__name", flat=True))
    assert set(arms) <= {"ABC", "BCA", "CAB"} and sorted(arms.values()) == [1, 1, 2]
    for user in readers:
        reads = _reads(study, user)
        assert Counter((code, cond) for _, code, cond, _ in reads) == {
            (code, cond): 1 for code in groups for cond in THREE
        }
        for period in (1, 2, 3):  # a period reads each group in one condition
            per_group = {(g, c) for s, _, c, g in reads if s == period}
            assert len({g for g, _ in per_group}) == len(per_group) == 3
    assert not Assignment.objects.filter(study=study, prerequisite__isnull=False).exists()


@pytest.mark.django_db
def test_a_three_condition_sequential_study_chains_each_case_in_the_condition_order():
    study, (reader, *_) = _three(Design.SEQUENTIAL_PER_CASE, n_cases=4)
    rows = list(Assignment.objects.filter(study=study, reader__user=reader).order_by("position"))
    assert [a.condition for a in rows] == THREE * 4
    for before, after in zip(rows, rows[1:], strict=False):
        if after.condition != U:
            assert after.prerequisite_id == before.pk
            assert after.study_case_id == before.study_case_id
        else:
            assert after.prerequisite_id is None
    stored = [a.study_case.case.code for a in rows[::3]]
    sr = study.readers.get(user=reader)
    seed = derive_seed(sr.order_seed, "session", 1)
    assert rows[0].seed == seed and seeded_order(seed, sorted(stored)) == stored


@pytest.mark.django_db
def test_a_sessions_study_of_three_conditions_has_one_condition_per_session():
    study, (reader, *_) = _three(Design.TWO_SESSIONS)
    assert list(study.sessions.values_list("name", "washout_days")) == [
        ("Unaided session", 0), ("Probability session", 7), ("Probability + heatmaps session", 7),
    ]  # fmt: skip
    reads = _reads(study, reader)
    assert {s: {c for x, _, c, _ in reads if x == s} for s in (1, 2, 3)} == {
        1: {U}, 2: {"probability"}, 3: {"heatmaps"},
    }  # fmt: skip
    chained = Assignment.objects.filter(study=study, reader__user=reader, condition="heatmaps")
    assert {a.prerequisite.condition for a in chained} == {"probability"}


@pytest.mark.django_db
def test_orders_of_the_same_seed_are_reproduced():
    first, readers = _three(Design.CROSSOVER, seed=5)
    again, readers_again = _three(Design.CROSSOVER, seed=5)
    # Same root seed, different users and cases: the stored seeds derive the same way.
    for study, users in ((first, readers), (again, readers_again)):
        for user in users:
            sr = study.readers.get(user=user)
            assert sr.order_seed == derive_seed(5, "reader", user.pk)
            for period in (1, 2, 3):
                rows = Assignment.objects.filter(reader=sr, session__index=period)
                codes = [a.study_case.case.code for a in rows.order_by("position")]
                seed = derive_seed(sr.order_seed, "session", period)
                assert {a.seed for a in rows} == {seed}
                assert seeded_order(seed, sorted(codes)) == codes


@pytest.mark.django_db
def test_default_conditions_are_unaided_and_aided():
    study = services.create_study(title="t", design=Design.CROSSOVER, randomization_seed=1)
    assert list(study.conditions.values_list("code", "name", "order")) == [
        (U, "Unaided", 0), (A, "Aided", 1),
    ]  # fmt: skip
    aided = study.conditions.get(code=A)
    assert aided.assistance.heatmaps == ["gradcampp", "ig", "shap", "occlusion"]
    assert study.assistance == aided.assistance
    only = services.create_study(title="t", design=Design.UNAIDED_ONLY, randomization_seed=1)
    assert list(only.conditions.values_list("code", flat=True)) == [U]
    assert only.assistance.condition is None  # the model readers are compared with


def _draft(design=Design.SEQUENTIAL_PER_CASE):
    return services.create_study(title="draft", design=design, randomization_seed=3)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("specs", "code"),
    [
        ([{"code": U}], "bad_conditions"),
        ([{"code": "aided"}, {"code": U}], "bad_conditions"),
        ([{"code": U}, {"code": "x"}, {"code": "x"}], "bad_conditions"),
        ([{"code": U}, {"code": "bad code"}], "bad_condition"),
        ([{"code": U, "assistance": {"heatmaps": []}}, {"code": "x"}], "unaided_shows_nothing"),
        ([{"code": U}, {"code": "x", "assistance": {"colour": "red"}}], "bad_assistance"),
        ([{"code": U}, {"code": "x", "assistance": {"heatmap_opacity": 3}}], "bad_assistance"),
    ],
)
def test_bad_conditions_are_refused_and_nothing_is_stored(specs, code):
    with pytest.raises(StudyError) as exc:
        services.create_study(title="x", design=Design.CROSSOVER, conditions=specs)
    assert exc.value.code == code
    study = _draft()
    before = list(ScheduleEntry.objects.filter(arm__study=study).values_list("condition"))
    with pytest.raises(StudyError) as exc:
        conditions.set_conditions(study, specs)
    assert exc.value.code == code
    assert list(study.conditions.values_list("code", flat=True)) == [U, A]
    after = list(ScheduleEntry.objects.filter(arm__study=study).values_list("condition"))
    assert after == before


@pytest.mark.django_db
def test_a_draft_adds_edits_moves_and_removes_conditions():
    study = _draft(Design.TWO_SESSIONS)
    model = ModelVersionFactory()
    conditions.add_condition(
        study, code="second", name="Second model", assistance={"model_version": model}
    )
    assert list(study.sessions.values_list("name", flat=True)) == [
        "Unaided session", "Aided session", "Second model session",
    ]  # fmt: skip
    conditions.move_condition(study, "second", -1)
    assert list(study.conditions.values_list("code", flat=True)) == [U, "second", A]
    with pytest.raises(StudyError, match="comes first"):
        conditions.move_condition(study, "second", -1)
    conditions.update_condition(study, "second", name="Model B", assistance={"heatmaps": ["ig"]})
    second = study.conditions.get(code="second")
    assert (second.name, second.assistance.heatmaps, second.assistance.model_version) == (
        "Model B", ["ig"], model,
    )  # fmt: skip
    with pytest.raises(StudyError, match="name the condition"):
        services.configure_assistance(study, heatmaps=[])
    services.configure_assistance(study, "aided", model_version=model)
    with pytest.raises(StudyError) as exc:
        services.configure_assistance(study, "unaided", heatmaps=[])
    assert exc.value.code == "unaided_shows_nothing"
    with pytest.raises(StudyError) as exc:
        services.configure_assistance(study, "third", heatmaps=[])
    assert exc.value.code == "unknown_condition"
    with pytest.raises(StudyError) as exc:
        conditions.add_condition(study, code="second")
    assert exc.value.code == "duplicate_condition"
    conditions.remove_condition(study, A)
    assert list(study.conditions.values_list("code", flat=True)) == [U, "second"]
    with pytest.raises(StudyError, match="needs 2 to 8"):
        conditions.remove_condition(study, "second")
    conditions.reorder_conditions(study, [U, "second"])
    with pytest.raises(StudyError, match="list every condition"):
        conditions.reorder_conditions(study, [U])


@pytest.mark.django_db
def test_conditions_of_an_open_study_cannot_change():
    study, _ = _three(Design.SEQUENTIAL_PER_CASE, n_cases=2, n_readers=1)
    for change in (
        lambda: conditions.add_condition(study, code="more"),
        lambda: conditions.update_condition(study, "probability", name="x"),
        lambda: conditions.remove_condition(study, "heatmaps"),
        lambda: conditions.move_condition(study, "heatmaps", -1),
        lambda: conditions.set_conditions(study, [{"code": U}, {"code": "x"}]),
        lambda: services.configure_assistance(study, "probability", heatmaps=[]),
    ):
        with pytest.raises(ProtocolConflict, match="can no longer change"):
            change()
    assert list(study.conditions.values_list("code", flat=True)) == THREE


@pytest.mark.django_db
def test_opening_needs_a_model_for_every_aided_condition():
    study = _draft(Design.CROSSOVER)
    conditions.add_condition(
        study, code="second", assistance={"model_version": ModelVersionFactory()}
    )
    services.add_cases(study, cases_with_series(3))
    services.enroll_reader(study, ReaderFactory())
    with pytest.raises(StudyError, match="condition aided"):
        services.open_study(study, truth_pending_allowed=True)
    assert not Assignment.objects.filter(study=study).exists()
