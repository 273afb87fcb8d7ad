"""Endpoints in the protocol: presets, setting them (draft only), opening, conditional questions."""

import copy

import pytest

from readerstudy.cases.models import GroundTruth
from readerstudy.reading import services as reading
from readerstudy.studies import services
from readerstudy.studies.errors import ProtocolConflict, StudyError, TruthMissing
from readerstudy.studies.models import Design, Endpoint, ReaderStudy
from readerstudy.studies.presets import PRESETS
from readerstudy.studies.questions import AnswerError
from readerstudy.studies.selectors import answer_validator, case_rows, primary_endpoint
from tests.factories import ReaderFactory, cases_with_series

pytestmark = pytest.mark.django_db

# Per preset, a truth matching its endpoints for three cases.
TRUTHS: dict[str, list] = {
    "seed000": [{"etiology": "cvst_ich"}, {"etiology": "sich"}, {"etiology": "sich"}],
    "seed001": [{"etiology": "cvt"}, {"etiology": "other"}, {"etiology": "other"}],
    "seed002": [
        {"ich_present": True, "subtypes": ["IPH", "IVH"]},
        {"ich_present": False},
        {"ich_present": True, "subtypes": ["SDH"]},
    ],
    "seed003": [
        {"ich_present": True, "location": "deep"},
        {"ich_present": False},
        {"ich_present": True, "location": "lobar"},
    ],
    "seed004": [{"ich_present": True, "subtypes": ["sah"]}, {"ich_present": False}] * 1
    + [{"ich_present": True, "subtypes": ["edh"]}],
}


def _draft(preset: str = "seed000", truths=None):
    study = services.create_study(
        title=preset, design=Design.UNAIDED_ONLY, randomization_seed=3, preset=preset
    )
    cases = cases_with_series(3)
    for case, truth in zip(cases, truths if truths is not None else TRUTHS[preset], strict=True):
        if truth is not None:
            GroundTruth.objects.create(case=case, **truth)
    services.add_cases(study, cases)
    services.enroll_reader(study, ReaderFactory())
    return study, cases


def _specs(study) -> list[dict]:
    return copy.deepcopy(PRESETS[study.title].endpoints)


@pytest.mark.parametrize("code", list(PRESETS))
def test_every_preset_opens_with_matching_truth(code):
    study, _ = _draft(code)
    preset = PRESETS[code]
    assert [q.code for q in study.questions.all()] == [q["code"] for q in preset.questions]
    stored = list(study.endpoints.select_related("question", "rating_question"))
    assert [(e.code, e.kind, e.truth_field) for e in stored] == [
        (e["code"], e["kind"], e["truth_field"]) for e in preset.endpoints
    ]
    assert [e.question.code for e in stored] == [e["question"] for e in preset.endpoints]
    assert primary_endpoint(study).code == preset.endpoints[0]["code"]
    study = services.open_study(study, truth_pending_allowed=False)
    assert study.status == ReaderStudy.Status.OPEN
    assert all(row["labelled"] for row in case_rows(study))


def test_case_rows_show_the_primary_endpoints_truth():
    study, cases = _draft("seed002")
    rows = {row["code"]: row for row in case_rows(study)}
    assert rows[cases[0].code]["truth"] == "any, iph, ivh"
    assert rows[cases[1].code]["truth"] == "none"


def test_opening_names_each_endpoint_and_its_cases_without_truth():
    truths = [{"ich_present": True}, {"ich_present": False}, None]
    study, cases = _draft("seed003", truths)
    with pytest.raises(TruthMissing) as refused:
        services.open_study(study, truth_pending_allowed=False)
    assert refused.value.by_endpoint == {"ich": [cases[2].code], "location": sorted(
        [cases[0].code, cases[2].code]
    )}  # fmt: skip
    assert refused.value.cases == sorted([cases[0].code, cases[2].code])
    assert "1 case(s) have no truth for the endpoint 'ich'" in refused.value.message
    assert "2 case(s) have no truth for the endpoint 'location'" in refused.value.message
    assert cases[1].code not in refused.value.message
    study.refresh_from_db()
    assert study.status == ReaderStudy.Status.DRAFT and not study.assignments.exists()
    assert services.open_study(study, truth_pending_allowed=True).truth_pending_allowed


def test_create_study_refuses_an_unknown_preset():
    with pytest.raises(StudyError) as refused:
        services.create_study(title="t", design=Design.UNAIDED_ONLY, preset="seed999")
    assert refused.value.code == "unknown_preset"
    assert not ReaderStudy.objects.exists()


def _mutated(change):
    specs = copy.deepcopy(PRESETS["seed003"].endpoints)
    change(specs)
    return specs


@pytest.mark.parametrize(
    ("change", "code", "named"),
    [
        (lambda s: s[0].update(kind="ordinal"), "bad_endpoint", "unknown kind"),
        (lambda s: s[0].update(truth_field="location"), "bad_endpoint", "reads its truth from"),
        (lambda s: s[0].update(labels=s[0]["labels"][:1]), "bad_endpoint", "exactly two labels"),
        (lambda s: s[1].update(labels=[{"value": "deep"}] * 2), "bad_endpoint", "unique"),
        (lambda s: s[0].update(labels=[{"label": "x"}, {"value": "no"}]), "bad_endpoint", "value"),
        (lambda s: s[0].update(code="Not a slug"), "bad_endpoint", "slug"),
        (lambda s: s[0].update(code="x" * 65), "bad_endpoint", "64 at most"),
        (lambda s: s[0].update(name="x" * 201), "bad_endpoint", "200 characters"),
        (lambda s: s[1].update(code="ich"), "duplicate_endpoint", "ich repeated"),
        (lambda s: s[1].update(is_primary=True), "primary_endpoint", "ich, location"),
        (lambda s: s[0].update(is_primary=False), "primary_endpoint", "none"),
        (lambda s: s[0].update(question="nope"), "endpoint_question", "'nope' is not in"),
        (lambda s: s[0].update(question="location"), "endpoint_question", "needs binary"),
        (lambda s: s[1].update(question="ich"), "endpoint_question", "needs single_choice"),
        (lambda s: s[1].update(labels=s[1]["labels"][:2]), "endpoint_question", "must equal"),
        (lambda s: s[0].update(rating_question="location"), "endpoint_question", "confidence_100"),
        (lambda s: s[1].update(rating_question="ich"), "endpoint_question", "takes no rating"),
        (lambda s: s.clear(), "no_endpoint", "at least one endpoint"),
    ],
)
def test_set_endpoints_refuses_and_keeps_the_endpoints(change, code, named):
    study, _ = _draft("seed003")
    with pytest.raises(StudyError) as refused:
        services.set_endpoints(study, _mutated(change))
    assert refused.value.code == code
    assert named in refused.value.message
    assert list(study.endpoints.values_list("code", flat=True)) == ["ich", "location"]


def test_multi_label_endpoint_needs_its_labels_among_the_options():
    study, _ = _draft("seed002")
    specs = _specs(study)
    specs[0]["labels"].append({"value": "chronic"})
    with pytest.raises(StudyError, match="has no option for chronic"):
        services.set_endpoints(study, specs)
    specs = _specs(study)
    specs[0]["rating_question"] = "ich"
    with pytest.raises(StudyError, match="must be confidence_per_label"):
        services.set_endpoints(study, specs)


def test_set_endpoints_replaces_them_in_order():
    study, _ = _draft("seed003")
    specs = _specs(study)[::-1]
    specs[0]["is_primary"], specs[1]["is_primary"] = True, False
    services.set_endpoints(study, specs)
    assert [(e.code, e.order, e.is_primary) for e in study.endpoints.all()] == [
        ("location", 0, True), ("ich", 1, False),
    ]  # fmt: skip
    assert primary_endpoint(study).code == "location"


def test_endpoints_keep_their_questions_through_question_edits():
    study, _ = _draft("seed000")
    questions = copy.deepcopy(PRESETS["seed000"].questions)
    services.set_questions(study, questions[::-1])
    endpoint = study.endpoints.get()
    assert (endpoint.question.code, endpoint.rating_question.code) == ("diagnosis", "confidence")
    services.set_questions(study, [q for q in questions if q["code"] != "diagnosis"])
    endpoint.refresh_from_db()
    assert endpoint.question is None and endpoint.rating_question.code == "confidence"
    with pytest.raises(StudyError) as refused:
        services.open_study(study, truth_pending_allowed=True)
    assert refused.value.code == "endpoint_question" and "etiology" in refused.value.message


def test_opening_rechecks_an_edited_question_against_its_endpoint():
    study, _ = _draft("seed003")
    questions = copy.deepcopy(PRESETS["seed003"].questions)
    questions[1]["options"] = questions[1]["options"][:2]
    services.set_questions(study, questions)
    with pytest.raises(StudyError, match="must equal the endpoint's labels"):
        services.open_study(study, truth_pending_allowed=True)


def test_a_study_without_endpoints_does_not_open():
    study, _ = _draft("seed000")
    study.endpoints.all().delete()
    with pytest.raises(StudyError) as refused:
        services.open_study(study, truth_pending_allowed=True)
    assert refused.value.code == "no_endpoint"


def test_endpoints_and_presets_are_draft_only():
    study, _ = _draft("seed000")
    services.apply_preset(study, "seed003")
    assert list(study.endpoints.values_list("code", flat=True)) == ["ich", "location"]
    with pytest.raises(StudyError) as refused:
        services.apply_preset(study, "nope")
    assert refused.value.code == "unknown_preset"
    study = services.open_study(study, truth_pending_allowed=True)
    with pytest.raises(ProtocolConflict):
        services.set_endpoints(study, _specs(study))
    with pytest.raises(ProtocolConflict):
        services.apply_preset(study, "seed000")
    assert Endpoint.objects.filter(study=study).count() == 2


@pytest.mark.parametrize(
    ("show_if", "named"),
    [
        ({"question": "later", "equals": "x"}, "not a question before it"),
        ({"question": "ich", "equals": "maybe"}, "is not an option of 'ich'"),
        ({"question": "ich", "present": True}, "needs a multi-label question"),
        ({"question": "ich"}, "exactly one of"),
        ({"question": "ich", "equals": "yes", "present": True}, "exactly one of"),
        ({"question": "comment", "equals": "x"}, "binary or single-choice"),
        (["ich"], "show_if needs"),
    ],
)
def test_set_questions_validates_show_if(show_if, named):
    study, _ = _draft("seed003")
    questions = copy.deepcopy(PRESETS["seed003"].questions)
    questions.insert(1, {"code": "comment", "type": "free_text", "required": False})
    questions[2]["show_if"] = show_if
    questions.append(
        {"code": "later", "type": "binary", "options": [{"value": "x"}, {"value": "y"}]}
    )
    with pytest.raises(StudyError) as refused:
        services.set_questions(study, questions)
    assert refused.value.code == "bad_question" and named in refused.value.message
    assert study.questions.get(code="location").show_if == {"question": "ich", "equals": "yes"}


def test_show_if_present_on_a_multi_label_question():
    study, _ = _draft("seed002")
    questions = copy.deepcopy(PRESETS["seed002"].questions)
    questions[1]["show_if"] = {"question": "ich", "present": True}
    services.set_questions(study, questions)
    validator = answer_validator(study)
    validator.validate({"ich": {"present": False}}, complete=True)
    rated = {"any": 1, "iph": 1, "ivh": 1, "sah": 1, "sdh": 1, "edh": 1}
    validator.validate({"ich": {"present": True}, "confidence": rated}, complete=True)
    with pytest.raises(AnswerError) as refused:
        validator.validate({"ich": {"present": False}, "confidence": rated}, complete=False)
    assert (refused.value.code, refused.value.field) == ("question_hidden", "confidence")


def test_a_hidden_question_is_not_required_and_must_not_be_answered():
    study, _ = _draft("seed003")
    validator = answer_validator(study)
    validator.validate({"ich": "no"}, complete=True)
    validator.validate({"ich": "yes", "location": "deep"}, complete=True)
    validator.validate({"ich": "yes"}, complete=False)
    with pytest.raises(AnswerError, match="requires an answer") as required:
        validator.validate({"ich": "yes"}, complete=True)
    assert required.value.field == "location"
    for answers in ({"ich": "no", "location": "deep"}, {"location": "deep"}):
        with pytest.raises(AnswerError) as hidden:
            validator.validate(answers, complete=False)
        assert (hidden.value.code, hidden.value.field) == ("question_hidden", "location")
        assert "shown only when 'ich' is 'yes'" in str(hidden.value)


def test_reading_refuses_an_answer_to_a_hidden_question():
    study, _ = _draft("seed003")
    study = services.open_study(study, truth_pending_allowed=False)
    reader = study.readers.get()
    assignment = study.assignments.order_by("position").first()
    reading.start(reader.user, assignment.pk)
    with pytest.raises(StudyError) as refused:
        reading.save_draft(reader.user, assignment.pk, {"ich": "no", "location": "lobar"})
    assert refused.value.code == "question_hidden" and "'location'" in refused.value.message
    result = reading.submit(reader.user, assignment.pk, {"ich": "no"}, client_request_id="r1")
    assert result.revision.answers == {"ich": "no"}


def test_confidence_per_label_answers():
    study, _ = _draft("seed002")
    validator = answer_validator(study)
    answer = {"present": True, "subtypes": ["iph"]}
    validator.validate({"ich": answer, "confidence": {"any": 80}}, complete=False)
    with pytest.raises(AnswerError, match="confidence.iph: this part of the answer is required"):
        validator.validate({"ich": answer, "confidence": {"any": 80}}, complete=True)
    with pytest.raises(AnswerError, match="101 is greater than the maximum"):
        validator.validate({"ich": answer, "confidence": {"any": 101}}, complete=False)
    with pytest.raises(AnswerError, match="chronic"):
        validator.validate({"ich": answer, "confidence": {"chronic": 5}}, complete=False)
