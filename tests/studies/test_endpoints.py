"""The rules turning one read's answers and a case's truth into analysis values per endpoint."""

import pytest

from readerstudy.cases.models import GroundTruth
from readerstudy.studies.endpoints import EndpointValue, endpoint_values, truth_present
from readerstudy.studies.models import Endpoint, Question
from readerstudy.studies.presets import ANY_ICH, LOCATIONS, SUBTYPES

ETIOLOGY_LABELS = [{"value": "cvst_ich", "label": "CVST"}, {"value": "sich", "label": "sICH"}]
LABELS = [ANY_ICH, *SUBTYPES]


def _question(code: str, qtype: str, options=()) -> Question:
    return Question(code=code, type=qtype, options=list(options))


def _etiology() -> Endpoint:
    return Endpoint(
        code="etiology", kind="binary", truth_field="etiology", labels=ETIOLOGY_LABELS,
        question=_question("diagnosis", "binary", ETIOLOGY_LABELS),
        rating_question=_question("confidence", "confidence_100"),
    )  # fmt: skip


def _ich() -> Endpoint:
    options = [{"value": "yes"}, {"value": "no"}]
    return Endpoint(
        code="ich", kind="binary", truth_field="ich_present", labels=options,
        question=_question("ich", "binary", options),
    )  # fmt: skip


def _subtypes(truth_field: str = "subtypes") -> Endpoint:
    return Endpoint(
        code="subtypes", kind="multi_label", truth_field=truth_field, labels=LABELS,
        question=_question("ich", "multi_label", SUBTYPES),
        rating_question=_question("confidence", "confidence_per_label", LABELS),
    )  # fmt: skip


def _location() -> Endpoint:
    return Endpoint(
        code="location", kind="multi_class", truth_field="location", labels=LOCATIONS,
        question=_question("location", "single_choice", LOCATIONS),
    )  # fmt: skip


def _by_name(values: list[EndpointValue]) -> dict[str, EndpointValue]:
    return {v.endpoint: v for v in values}


def test_binary_etiology_truth_decision_and_rating():
    values = endpoint_values(
        _etiology(), {"diagnosis": "sich", "confidence": 30}, GroundTruth(etiology="cvst_ich")
    )
    assert values == [EndpointValue("etiology", truth=1, decision=0, rating=30.0)]
    [negative] = endpoint_values(
        _etiology(), {"diagnosis": "cvst_ich"}, GroundTruth(etiology="sich")
    )
    assert (negative.truth, negative.decision, negative.rating) == (0, 1, None)


def test_binary_etiology_outside_the_labels_is_no_truth():
    [value] = endpoint_values(_etiology(), {"diagnosis": "sich"}, GroundTruth(etiology="other"))
    assert value.truth is None and value.decision == 0
    assert not truth_present(_etiology(), GroundTruth(etiology="other"))
    assert not truth_present(_etiology(), GroundTruth(etiology=""))
    assert truth_present(_etiology(), GroundTruth(etiology="sich"))


def test_no_truth_record_and_no_answer():
    [value] = endpoint_values(_etiology(), {}, None)
    assert value == EndpointValue("etiology", None, None, None)
    assert not truth_present(_etiology(), None)
    assert all(
        v.truth is None and v.decision is None for v in endpoint_values(_subtypes(), {}, None)
    )


@pytest.mark.parametrize(("present", "expected"), [(True, 1), (False, 0), (None, None)])
def test_binary_ich_present_truth(present, expected):
    [value] = endpoint_values(_ich(), {"ich": "yes"}, GroundTruth(ich_present=present))
    assert (value.endpoint, value.truth, value.decision) == ("ich", expected, 1)
    assert truth_present(_ich(), GroundTruth(ich_present=present)) is (present is not None)


def test_multi_label_truth_any_from_ich_present_and_subtypes_case_insensitive():
    truth = GroundTruth(ich_present=True, subtypes=["IPH", "Ivh"])
    answers = {
        "ich": {"present": True, "subtypes": ["iph", "sdh"]},
        "confidence": {"any": 90, "iph": 80, "ivh": 20, "sah": 5, "sdh": 60, "edh": 1},
    }
    values = _by_name(endpoint_values(_subtypes(), answers, truth))
    assert list(values) == ["any", "iph", "ivh", "sah", "sdh", "edh"]
    assert {k: v.truth for k, v in values.items()} == {
        "any": 1, "iph": 1, "ivh": 1, "sah": 0, "sdh": 0, "edh": 0,
    }  # fmt: skip
    assert {k: v.decision for k, v in values.items()} == {
        "any": 1, "iph": 1, "ivh": 0, "sah": 0, "sdh": 1, "edh": 0,
    }  # fmt: skip
    assert values["sdh"].rating == 60.0 and values["edh"].rating == 1.0


def test_multi_label_without_ich_is_zero_for_every_subtype():
    truth = GroundTruth(ich_present=False, subtypes=["iph"])  # stale subtypes do not count
    answers = {"ich": {"present": False, "subtypes": ["ivh"]}}
    values = endpoint_values(_subtypes(), answers, truth)
    assert [v.truth for v in values] == [0] * 6
    assert [v.decision for v in values] == [0] * 6
    assert [v.rating for v in values] == [None] * 6
    assert truth_present(_subtypes(), truth)


def test_multi_label_unknown_ich_is_no_truth_and_unanswered_is_no_decision():
    values = endpoint_values(_subtypes(), {}, GroundTruth(ich_present=None, subtypes=["iph"]))
    assert [v.truth for v in values] == [None] * 6 and [v.decision for v in values] == [None] * 6
    assert not truth_present(_subtypes(), GroundTruth(ich_present=None))


def test_multi_label_partial_confidence_rates_only_the_labels_given():
    answers = {"ich": {"present": True, "subtypes": []}, "confidence": {"any": 70}}
    values = _by_name(endpoint_values(_subtypes(), answers, GroundTruth(ich_present=True)))
    assert values["any"].rating == 70.0 and values["iph"].rating is None
    assert values["any"].decision == 1 and values["iph"].decision == 0


def test_multi_label_truth_from_slice_labels_is_the_maximum_over_slices():
    truth = GroundTruth(slice_labels={"labels": ["iph", "sah"], "slices": {"0": [], "4": ["SAH"]}})
    values = _by_name(endpoint_values(_subtypes("slice_labels"), {}, truth))
    assert (values["any"].truth, values["sah"].truth, values["iph"].truth) == (1, 1, 0)
    empty = GroundTruth(slice_labels={"labels": [], "slices": {"0": [], "1": []}})
    assert [v.truth for v in endpoint_values(_subtypes("slice_labels"), {}, empty)] == [0] * 6
    assert not truth_present(_subtypes("slice_labels"), GroundTruth(slice_labels={}))


def test_multi_class_location_truth_and_decision():
    truth = GroundTruth(ich_present=True, location="Lobar")
    [value] = endpoint_values(_location(), {"location": "deep"}, truth)
    assert value == EndpointValue("location", truth="lobar", decision="deep", rating=None)
    assert truth_present(_location(), truth)


def test_multi_class_location_of_a_case_without_ich_is_settled_but_empty():
    truth = GroundTruth(ich_present=False, location="")
    [value] = endpoint_values(_location(), {}, truth)  # the hidden question was not answered
    assert (value.truth, value.decision) == (None, None)
    assert truth_present(_location(), truth)
    assert not truth_present(_location(), GroundTruth(ich_present=True, location=""))
    assert not truth_present(_location(), GroundTruth(ich_present=True, location="cortical"))
