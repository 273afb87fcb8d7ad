"""The model's marks in the aided payload: the components of its mask with centroid, nearest
slice, extent and probability, only when the condition shows them, never before the unaided
lock nor for an unaided read."""

import numpy as np
import pytest
import SimpleITK as sitk

from readerstudy.ai.models import Heatmap
from readerstudy.ai.outputs import save_heatmap, save_mask
from readerstudy.cases.models import Instance
from readerstudy.reading import services
from readerstudy.reading.assistance import assistance_payload
from readerstudy.studies import services as study_services
from readerstudy.studies.errors import NotAvailable
from readerstudy.studies.models import Assignment, Design
from tests.factories import (
    ModelVersionFactory,
    ReaderFactory,
    cases_with_series,
    make_inference_output,
)

pytestmark = pytest.mark.django_db
ANSWER = {"diagnosis": "sich", "confidence": 40}
SHAPE = (4, 16, 16)


def _url(kind, assignment_id, method=None, label=None):
    return f"/{kind}/{assignment_id}/{method}/{label}"


def _study(**assistance):
    version = ModelVersionFactory()
    (case,) = cases_with_series(1)
    for z in range(SHAPE[0]):
        Instance.objects.create(
            series=case.primary_series, sop_instance_uid=f"2.25.55{z}", sop_class_uid="1.2",
            transfer_syntax_uid="1.2.840.10008.1.2.1", position=z, file=f"x/{z}",
            sha256="0" * 64, size=1, pixel_offset=0, pixel_length=1, metadata={},
        )  # fmt: skip
    study = study_services.create_study(
        title="marks", design=Design.SEQUENTIAL_PER_CASE, randomization_seed=3,
        conditions=[
            {"code": "unaided", "name": "Unaided"},
            {"code": "aided", "name": "Aided", "assistance": {
                "model_version": version, "heatmaps": [], **assistance}},
        ],
    )  # fmt: skip
    study_services.add_cases(study, [case])
    reader = ReaderFactory()
    study_services.enroll_reader(study, reader)
    study = study_services.open_study(study, truth_pending_allowed=True)
    output = make_inference_output(case, version, shape=SHAPE, methods=())
    reference = sitk.GetImageFromArray(np.zeros(SHAPE, np.uint8))
    reference.SetSpacing((0.5, 0.5, 5.0))
    reference.SetOrigin((-4.0, -4.0, 0.0))
    mask = np.zeros(SHAPE, np.uint8)
    mask[1:3, 2:6, 2:6] = 1  # 32 voxels, centroid z index 1.5 -> slice 2 (rounded half to even)
    mask[3, 10:12, 10:12] = 1  # 4 voxels on slice 3
    output.mask = save_mask(mask, reference)
    output.save(update_fields=["mask"])
    unaided, aided = Assignment.objects.filter(study=study).order_by("position")
    return reader, unaided, aided, output, reference


def _lock_unaided(reader, unaided, aided):
    services.start(reader, unaided.pk)
    services.submit(reader, unaided.pk, ANSWER, client_request_id="u", lock=True)
    services.start(reader, aided.pk)


def test_model_marks_in_the_aided_payload():
    reader, unaided, aided, output, _ = _study(show_model_marks=True)
    _lock_unaided(reader, unaided, aided)
    marks = assistance_payload(reader, aided.pk, url_for=_url)["model_marks"]
    assert [m["voxels"] for m in marks] == [32, 4]
    first, second = marks
    assert first["point_mm"] == pytest.approx([-2.25, -2.25, 7.5])
    assert first["sop_instance_uid"] in ("2.25.551", "2.25.552")
    assert second["sop_instance_uid"] == "2.25.553"
    assert second["point_mm"] == pytest.approx([1.25, 1.25, 15.0])
    assert first["extent_mm"]["corners_mm"] == [[-3.0, -3.0, 5.0], [-1.5, -1.5, 10.0]]
    assert first["probability"] == pytest.approx(0.8125)
    assert first["probability_source"] == "probability"


def test_a_probability_heatmap_gives_each_mark_its_own_probability(client):
    reader, unaided, aided, output, reference = _study(show_model_marks=True)
    values = np.full(SHAPE, 0.1, np.float32)
    values[1:3, 2:6, 2:6] = 0.9
    Heatmap.objects.create(
        output=output, method="probmap", label="cvst_ich", signed=False,
        file=save_heatmap(values, reference), params={}, passes=1, value_range=[0.1, 0.9],
    )  # fmt: skip
    _lock_unaided(reader, unaided, aided)
    client.force_login(reader)
    response = client.get(f"/api/reading/assignments/{aided.pk}/assistance/")
    assert response.status_code == 200, response.content
    marks = response.json()["model_marks"]
    assert marks[0]["probability"] == pytest.approx(0.9, abs=1e-3)
    assert marks[1]["probability"] == pytest.approx(0.1, abs=1e-3)
    assert marks[0]["probability_source"] == "heatmap:probmap"


def test_no_model_marks_unless_configured_and_never_unaided():
    reader, unaided, aided, *_ = _study(show_model_marks=False)
    services.start(reader, unaided.pk)
    with pytest.raises(NotAvailable):
        assistance_payload(reader, unaided.pk, url_for=_url)
    with pytest.raises(NotAvailable):  # before the unaided lock
        assistance_payload(reader, aided.pk, url_for=_url)
    services.submit(reader, unaided.pk, ANSWER, client_request_id="u", lock=True)
    with pytest.raises(NotAvailable):  # the unaided read stays unaided after its lock
        assistance_payload(reader, unaided.pk, url_for=_url)
    services.start(reader, aided.pk)
    assert "model_marks" not in assistance_payload(reader, aided.pk, url_for=_url)
