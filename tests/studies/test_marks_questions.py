"""The marks question type: its settings and the rules on its answers that need no images."""

from types import SimpleNamespace

import pytest

from readerstudy.studies.marks import marks_config, validate_marks_definition
from readerstudy.studies.questions import AnswerError, AnswerValidator

UID = "1.2.3.4"
LABELS = [{"value": "ich", "label": "ICH"}, {"value": "sdh", "label": "SDH"}]
CONFIG = {"tools": ["point", "ellipse", "slice", "brush"], "rating_min": 1, "rating_max": 5,
          "max_marks": 2}  # fmt: skip
SEG = {"file": "reading/segmentations/ab/x.nii.gz", "sha256": "a" * 64, "voxels": 12}


def _validator(config=CONFIG, options=LABELS):
    q = SimpleNamespace(
        code="lesions", type="marks", options=options, config=config, required=True, show_if={}
    )
    return AnswerValidator([q])


def _point(i="m1", **kw):
    return {"id": i, "tool": "point", "sop_instance_uid": UID, "point_mm": [1.0, 2.0, 3.0],
            "rating": 3, **kw}  # fmt: skip


def _ellipse(i="e1", **kw):
    corners = [[0.0, 0.0, 3.0], [2.0, 4.0, 3.0]]
    return {"id": i, "tool": "ellipse", "sop_instance_uid": UID, "point_mm": [1.0, 2.0, 3.0],
            "rating": 4, "extent_mm": {"corners_mm": corners}, **kw}  # fmt: skip


def _answer(marks=(), slice_marks=(), segmentation=None):
    return {"lesions": {"marks": list(marks), "slice_marks": list(slice_marks),
                        "segmentation": segmentation}}  # fmt: skip


def test_a_full_answer_is_accepted():
    answer = _answer(
        [_point(), _ellipse()], [{"sop_instance_uid": UID, "label": "sdh"}], segmentation=SEG
    )
    _validator().validate(answer, complete=True)
    _validator().validate(_answer(), complete=True)  # nothing seen is an answer too


@pytest.mark.parametrize(
    ("answer", "field", "words"),
    [
        (_answer([_point(rating=6)]), "lesions.marks.0.rating", "mark 'm1': 6 is greater"),
        (_answer([_point(rating=0)]), "lesions.marks.0.rating", "less than the minimum"),
        (_answer([_point(tool="rectangle")]), "lesions.marks.0.tool", "mark 'm1'"),
        (_answer([_point("a"), _point("b"), _point("c")]), "lesions.marks", "too long"),
        (_answer([_point(point_mm=[1, 2])]), "lesions.marks.0.point_mm", "too short"),
        (_answer([_point(sop_instance_uid="x")]), "lesions.marks.0.sop_instance_uid", "match"),
        (_answer(slice_marks=[{"sop_instance_uid": UID, "label": "edh"}]),
         "lesions.slice_marks.0.label", "is not one of"),
        (_answer(segmentation={**SEG, "voxels": 0}), "lesions.segmentation", ""),
        ({"lesions": {"marks": []}}, "lesions.slice_marks", "required"),
        (_answer([_point(), _point()]), "lesions.marks.1.id", "used twice"),
        (_answer([_ellipse(extent_mm=None)]), "lesions.marks.0.extent_mm", ""),
        (_answer([{k: v for k, v in _ellipse().items() if k != "extent_mm"}]),
         "lesions.marks.0.extent_mm", "needs extent_mm"),
        (_answer([_point(extent_mm=_ellipse()["extent_mm"])]), "lesions.marks.0.extent_mm",
         "a point has no extent_mm"),
        (_answer(slice_marks=[{"sop_instance_uid": UID, "label": "ich"}] * 2),
         "lesions.slice_marks.1", "twice"),
    ],
)  # fmt: skip
def test_each_rule_refuses_with_the_field_named(answer, field, words):
    with pytest.raises(AnswerError) as info:
        _validator().validate(answer, complete=False)
    assert info.value.field.startswith(field), info.value
    assert words in str(info.value)


def test_tools_not_allowed_are_refused():
    config = {**CONFIG, "tools": ["point"]}
    with pytest.raises(AnswerError, match="marks.0.tool"):
        _validator(config).validate(_answer([_ellipse()]), complete=False)
    slice_marks = [{"sop_instance_uid": UID, "label": "ich"}]
    with pytest.raises(AnswerError, match="slice_marks"):
        _validator(config).validate(_answer(slice_marks=slice_marks), complete=False)
    with pytest.raises(AnswerError, match="segmentation"):
        _validator(config).validate(_answer(segmentation=SEG), complete=False)


@pytest.mark.parametrize(
    ("config", "options", "words"),
    [
        ({"tools": []}, LABELS, "non-empty list"),
        ({"tools": ["lasso"]}, LABELS, "non-empty list"),
        ({"tools": ["point", "point"]}, LABELS, "once"),
        ({"rating_min": 5, "rating_max": 5}, LABELS, "below"),
        ({"rating_max": "5"}, LABELS, "integer"),
        ({"max_marks": 0}, LABELS, "max_marks"),
        ({"colour": "red"}, LABELS, "unknown marks setting"),
        ({"tools": ["slice"]}, [], "labels"),
    ],
)
def test_bad_settings_are_refused(config, options, words):
    with pytest.raises(ValueError, match=words):
        validate_marks_definition(config, options)


def test_defaults_fill_missing_settings():
    validate_marks_definition({"tools": ["point"]}, [])
    assert marks_config({"max_marks": 3})["rating_max"] == 5
