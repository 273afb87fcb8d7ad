"""Marks answers are placed on the case's own series: checked against its geometry."""

import json

import numpy as np
import pytest

from readerstudy.cases.ingest import import_study
from readerstudy.reading import services
from readerstudy.reading.models import AnswerRevision
from readerstudy.studies import services as study_services
from readerstudy.studies.errors import ProtocolConflict, StudyError
from readerstudy.studies.models import Assignment, Design
from readerstudy.studies.questions import seed000_questions
from tests.factories import ModelVersionFactory, ReaderFactory

pytestmark = pytest.mark.django_db

MARKS_QUESTION = {
    "code": "lesions",
    "type": "marks",
    "text": "Mark each hemorrhage",
    "options": [{"value": "ich", "label": "ICH"}],
    "required": False,
    "config": {"tools": ["point", "ellipse", "rectangle", "slice", "brush"], "rating_min": 1,
               "rating_max": 5, "max_marks": 4},
}  # fmt: skip
BASE = {"diagnosis": "sich", "confidence": 10}


def build_world(tmp_path, design=Design.UNAIDED_ONLY):
    """One imported 64 x 64 phantom in an open study with a marks question; the reader's
    first read is started. Returns (reader, assignment, series)."""
    from phantoms import generate_dataset

    records = generate_dataset(tmp_path / "ph", 1, 5, matrix=64, positive_fraction=1.0)
    case = import_study(tmp_path / "ph" / records[0]["case_id"]).case
    study = study_services.create_study(title="marks", design=design, randomization_seed=1)
    study_services.set_questions(study, [*seed000_questions(), MARKS_QUESTION])
    study_services.add_cases(study, [case])
    reader = ReaderFactory()
    study_services.enroll_reader(study, reader)
    study_services.configure_assistance(study, model_version=ModelVersionFactory())
    study_services.open_study(study, truth_pending_allowed=True)
    assignment = Assignment.objects.filter(reader__user=reader).order_by("session__index").first()
    services.start(reader, assignment.pk)
    return reader, assignment, case.primary_series


@pytest.fixture
def world(tmp_path):
    return build_world(tmp_path)


def slice_points(series, position):
    """(SOP UID, a point at the slice's pixel (row 20, column 30), its IPP) of a slice."""
    instance = series.instances.get(position=position)
    ipp = np.array(instance.metadata["00200032"]["Value"], dtype=float)
    iop = np.array(series.orientation, dtype=float)
    point = ipp + 30 * series.pixel_spacing_col * iop[:3] + 20 * series.pixel_spacing_row * iop[3:]
    return instance.sop_instance_uid, point, ipp


def _marks(marks=(), slice_marks=(), segmentation=None):
    return {**BASE, "lesions": {"marks": list(marks), "slice_marks": list(slice_marks),
                                "segmentation": segmentation}}  # fmt: skip


def _point(uid, point, **kw):
    return {"id": "m1", "tool": "point", "sop_instance_uid": uid,
            "point_mm": [float(v) for v in point], "rating": 4, **kw}  # fmt: skip


def _rectangle(uid, a, b, **kw):
    centre = (np.asarray(a) + np.asarray(b)) / 2
    return {"id": "r1", "tool": "rectangle", "sop_instance_uid": uid,
            "point_mm": centre.tolist(), "rating": 2,
            "extent_mm": {"corners_mm": [list(map(float, a)), list(map(float, b))]}, **kw}  # fmt: skip


def test_marks_on_the_series_are_stored_and_locked(world):
    reader, assignment, series = world
    uid, point, _ = slice_points(series, 10)
    normal = np.cross(series.orientation[:3], series.orientation[3:])
    corner = point + [10.0, 8.0, 0.0]
    answer = _marks(
        [_point(uid, point), _rectangle(uid, point, corner)],
        [{"sop_instance_uid": uid, "label": "ich"}],
    )
    services.save_draft(reader, assignment.pk, answer)
    result = services.submit(reader, assignment.pk, answer, client_request_id="r1", lock=True)
    assert result.revision.answers["lesions"]["marks"][1]["extent_mm"]["corners_mm"][1] == list(
        map(float, corner)
    )
    assert normal @ normal == pytest.approx(1.0)
    with pytest.raises(ProtocolConflict):
        services.save_draft(reader, assignment.pk, _marks())
    kinds = list(
        AnswerRevision.objects.filter(assignment=assignment).values_list("kind", flat=True)
    )
    assert kinds == ["draft", "submit", "lock"]


@pytest.mark.parametrize(
    ("shift", "words"),
    [
        ([0.0, 0.0, 2.6], "off slice"),  # past half the 5 mm slice spacing
        ([-200.0, 0.0, 0.0], "outside the image"),
        ([0.0, 300.0, 0.0], "outside the image"),
    ],
)
def test_a_point_off_its_slice_or_outside_the_image_is_refused(world, shift, words):
    reader, assignment, series = world
    uid, point, _ = slice_points(series, 10)
    with pytest.raises(StudyError, match=f"lesions.marks.0.point_mm: mark 'm1': .*{words}"):
        services.save_draft(reader, assignment.pk, _marks([_point(uid, point + shift)]))
    assert not AnswerRevision.objects.filter(assignment=assignment).exists()


def test_a_point_within_half_a_slice_is_on_it(world):
    reader, assignment, series = world
    uid, point, _ = slice_points(series, 10)
    services.save_draft(reader, assignment.pk, _marks([_point(uid, point + [0, 0, 2.4])]))


def test_a_slice_of_another_series_is_refused(world, tmp_path):
    reader, assignment, series = world
    _, point, _ = slice_points(series, 3)
    with pytest.raises(StudyError, match="not a slice of this case's series"):
        services.save_draft(reader, assignment.pk, _marks([_point("1.2.3.999", point)]))
    with pytest.raises(StudyError, match="slice_marks.0: slice 1.2.3.999 is not a slice"):
        services.save_draft(
            reader,
            assignment.pk,
            _marks(slice_marks=[{"sop_instance_uid": "1.2.3.999", "label": "ich"}]),
        )


def test_an_roi_corner_outside_or_a_centre_elsewhere_is_refused(world):
    reader, assignment, series = world
    uid, point, _ = slice_points(series, 10)
    with pytest.raises(StudyError, match="extent_mm: mark 'r1': corner .* outside the image"):
        services.save_draft(
            reader, assignment.pk, _marks([_rectangle(uid, point, point + [120.0, 0, 0])])
        )
    moved = _rectangle(uid, point, point + [10.0, 10.0, 0], point_mm=list(point))
    with pytest.raises(StudyError, match="point_mm: mark 'r1': is 7.1 mm from the centre"):
        services.save_draft(reader, assignment.pk, _marks([moved]))


def test_a_segmentation_not_uploaded_for_this_read_is_refused(world):
    reader, assignment, _ = world
    fake = {"file": "reading/segmentations/aa/a.nii.gz", "sha256": "a" * 64, "voxels": 3}
    with pytest.raises(StudyError, match="lesions.segmentation: no segmentation"):
        services.save_draft(reader, assignment.pk, _marks(segmentation=fake))


def test_the_api_answers_400_naming_the_mark(world, client):
    reader, assignment, series = world
    uid, point, _ = slice_points(series, 10)
    client.force_login(reader)
    r = client.put(
        f"/api/reading/assignments/{assignment.pk}/draft/",
        json.dumps({"answers": _marks([_point(uid, point, rating=9)])}),
        content_type="application/json",
    )
    assert r.status_code == 400
    assert "mark 'm1'" in r.json()["detail"] and "rating" in r.json()["detail"]


def test_the_workspace_sends_the_marks_settings(world, client):
    reader, assignment, _ = world
    client.force_login(reader)
    body = client.post(f"/api/reading/assignments/{assignment.pk}/start/").json()
    marks = next(q for q in body["questions"] if q["type"] == "marks")
    assert marks["config"]["max_marks"] == 4
    assert marks["options"] == [{"value": "ich", "label": "ICH"}]
