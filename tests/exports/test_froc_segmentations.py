"""Reader segmentations exported as DICOM SEG (readable by pydicom and highdicom) and analysed
with Dice against each other, the reader's other read, the model's mask and the truth."""

from __future__ import annotations

import io

import highdicom as hd
import numpy as np
import pydicom
import pytest

from readerstudy.ai.outputs import save_mask
from readerstudy.cases.ingest import import_study
from readerstudy.cases.models import HematomaMask
from readerstudy.reading import segmentations
from readerstudy.reading import services as reading
from readerstudy.reading.assistance import assistance_payload
from readerstudy.studies import services as study_services
from readerstudy.studies.models import Assignment, Design
from readerstudy.studies.questions import seed000_questions
from tests.factories import (
    CoordinatorFactory,
    ModelVersionFactory,
    ReaderFactory,
    StatisticianFactory,
    make_inference_output,
)

pytestmark = pytest.mark.django_db
MARKS_QUESTION = {
    "code": "lesions", "type": "marks", "text": "Segment the hematoma", "required": False,
    "config": {"tools": ["point", "brush"], "rating_min": 1, "rating_max": 5, "max_marks": 4},
}  # fmt: skip


def _box(shape, z0, z1, y0=20, x0=20, size=10) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    m[z0:z1, y0 : y0 + size, x0 : x0 + size] = 1
    return m


@pytest.fixture
def world(tmp_path):
    from phantoms import generate_dataset

    records = generate_dataset(tmp_path / "ph", 1, 5, matrix=64, positive_fraction=1.0)
    case = import_study(tmp_path / "ph" / records[0]["case_id"]).case
    series = case.primary_series
    shape = (series.num_slices, series.rows, series.columns)
    model = ModelVersionFactory()
    output = make_inference_output(case, model, shape=shape, methods=())
    reference = segmentations._reference(series)
    output.mask = save_mask(_box(shape, 2, 6), reference)
    output.save(update_fields=["mask"])
    HematomaMask.objects.create(
        case=case, series=series, file=save_mask(_box(shape, 2, 5), reference), voxels=300,
        volume_ml=1.0,
    )  # fmt: skip
    study = study_services.create_study(
        title="Segmentations", design=Design.SEQUENTIAL_PER_CASE, randomization_seed=2
    )
    study_services.set_questions(study, [*seed000_questions(), MARKS_QUESTION])
    study_services.add_cases(study, [case])
    readers = [ReaderFactory(username=f"s{i}") for i in range(2)]
    for r in readers:
        study_services.enroll_reader(study, r)
    study_services.configure_assistance(study, model_version=model, heatmaps=[])
    study = study_services.open_study(study, truth_pending_allowed=True)
    drawn = {("s0", "unaided"): (2, 5), ("s0", "aided"): (2, 6), ("s1", "unaided"): (3, 5)}
    masks = {}
    for r in readers:
        for a in Assignment.objects.filter(reader__user=r).order_by("position"):
            reading.start(r, a.pk)
            if a.condition == "aided":
                assistance_payload(r, a.pk, url_for=lambda *args: "/x")
            seg = None
            key = (r.username, a.condition)
            if key in drawn:
                masks[key] = _box(shape, *drawn[key])
                row = segmentations.record(a, "lesions", series, masks[key], reference)
                seg = {"file": row.file, "sha256": row.sha256, "voxels": row.voxels}
            answer = {"diagnosis": "sich", "confidence": 50,
                      "lesions": {"marks": [], "slice_marks": [], "segmentation": seg}}  # fmt: skip
            reading.submit(r, a.pk, answer, client_request_id=f"{a.pk}", lock=True)
    return study, series, masks


def test_segmentation_exports_as_a_dicom_seg(world, client):
    study, series, masks = world
    client.force_login(CoordinatorFactory())
    a = Assignment.objects.get(study=study, reader__user__username="s0", condition="unaided")
    response = client.get(f"/api/exports/studies/{study.pk}/segmentations/{a.pk}/seg/")
    assert response.status_code == 200, response.content
    ds = pydicom.dcmread(io.BytesIO(response.content))
    assert ds.Modality == "SEG" and ds.SegmentationType == "BINARY"
    assert ds.SegmentSequence[0].SegmentAlgorithmType == "MANUAL"
    assert ds.ReferencedSeriesSequence[0].SeriesInstanceUID == series.series_instance_uid
    seg = hd.seg.Segmentation.from_dataset(ds)
    uids = list(series.instances.order_by("position").values_list("sop_instance_uid", flat=True))
    pixels = seg.get_pixels_by_source_instance(source_sop_instance_uids=uids, segment_numbers=[1])
    assert np.array_equal(pixels[..., 0] > 0, masks[("s0", "unaided")] > 0)
    again = client.get(f"/api/exports/studies/{study.pk}/segmentations/{a.pk}/seg/")
    assert again.content == response.content  # UIDs derived from the read: the same file
    none = Assignment.objects.get(study=study, reader__user__username="s1", condition="aided")
    missing = client.get(f"/api/exports/studies/{study.pk}/segmentations/{none.pk}/seg/")
    assert missing.status_code == 404
    client.force_login(ReaderFactory())
    assert (
        client.get(f"/api/exports/studies/{study.pk}/segmentations/{a.pk}/seg/").status_code == 403
    )


def test_dice_of_readers_sessions_model_and_truth(world, client):
    study, series, masks = world
    client.force_login(CoordinatorFactory())  # blinded: no truth comparisons
    rows = client.get(f"/api/exports/studies/{study.pk}/segmentations/dice/json/").json()["rows"]
    kinds = {r["comparison"] for r in rows}
    assert kinds == {"reader_vs_reader", "intra_reader", "reader_vs_model"}
    rr = next(r for r in rows if r["comparison"] == "reader_vs_reader")
    assert (rr["a"], rr["b"], rr["dice"]) == ("s0", "s1", pytest.approx(2 * 200 / (300 + 200)))
    intra = next(r for r in rows if r["comparison"] == "intra_reader")
    assert intra["dice"] == pytest.approx(2 * 300 / (300 + 400))
    study_services.close_study(study)
    client.force_login(StatisticianFactory())
    report = client.get(f"/api/exports/studies/{study.pk}/segmentations/dice/json/").json()
    truth = [r for r in report["rows"] if r["comparison"] == "reader_vs_truth"]
    assert len(truth) == 3 and max(r["dice"] for r in truth) == 1.0
    summary = {s["comparison"]: s for s in report["summary"]}
    assert summary["reader_vs_model"]["n"] == 3
    csv = client.get(f"/api/exports/studies/{study.pk}/segmentations/dice/csv/")
    assert csv.status_code == 200 and csv.content.decode().startswith("comparison,case,session")
    assert (
        client.get(f"/api/exports/studies/{study.pk}/segmentations/dice/xlsx/").status_code == 400
    )
    client.force_login(ReaderFactory())
    assert client.get(f"/api/exports/studies/{study.pk}/segmentations/dice/csv/").status_code == 403
