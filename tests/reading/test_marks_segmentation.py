"""A reader's segmentation: uploaded as a binary mask on the series grid, stored as NIfTI."""

import gzip
import json

import numpy as np
import pytest
import SimpleITK as sitk

from readerstudy.cases.storage import local_copy
from readerstudy.reading.models import ReaderSegmentation
from tests.factories import ReaderFactory
from tests.reading.test_marks_answers import BASE, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tmp_path, client):
    reader, assignment, series = build_world(tmp_path)
    client.force_login(reader)
    return client, assignment, series


def _grid(series):
    return (series.num_slices, series.rows, series.columns)


def _mask(series):
    mask = np.zeros(_grid(series), dtype=np.uint8)
    mask[10:12, 20:30, 25:40] = 1
    return mask


def _upload(client, assignment, body, *, shape="", content_type="application/octet-stream"):
    query = f"?question=lesions&shape={shape}" if shape else "?question=lesions"
    return client.post(
        f"/api/reading/assignments/{assignment.pk}/segmentations/{query}",
        body,
        content_type=content_type,
    )


def _shape(series):
    return ",".join(map(str, _grid(series)))


def test_a_raw_mask_is_stored_as_nifti_on_the_series_grid(world):
    client, assignment, series = world
    mask = _mask(series)
    r = _upload(client, assignment, gzip.compress(mask.tobytes()), shape=_shape(series))
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["voxels"] == int(mask.sum()) == 300
    with local_copy(body["file"]) as path, local_copy(series.volume) as ref_path:
        image, reference = sitk.ReadImage(str(path)), sitk.ReadImage(str(ref_path))
    assert image.GetSize() == reference.GetSize()
    assert np.allclose(image.GetOrigin(), reference.GetOrigin())
    assert np.allclose(image.GetDirection(), reference.GetDirection())
    assert np.array_equal(sitk.GetArrayFromImage(image), mask)
    # Read back as the viewer restores it; referenced by a marks answer.
    back = client.get(body["url"])
    assert back.status_code == 200
    assert json.loads(back["X-Overlay"])["shape"] == list(_grid(series))
    assert np.array_equal(
        np.frombuffer(gzip.decompress(back.content), np.uint8).reshape(_grid(series)), mask
    )
    answer = {**BASE, "lesions": {"marks": [], "slice_marks": [], "segmentation": {
        k: body[k] for k in ("file", "sha256", "voxels")}}}  # fmt: skip
    r = client.put(
        f"/api/reading/assignments/{assignment.pk}/draft/",
        json.dumps({"answers": answer}),
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    answer["lesions"]["segmentation"]["voxels"] = 5
    r = client.put(
        f"/api/reading/assignments/{assignment.pk}/draft/",
        json.dumps({"answers": answer}),
        content_type="application/json",
    )
    assert r.status_code == 400 and "has 300 voxels" in r.json()["detail"]


def test_the_same_mask_twice_is_one_row(world):
    client, assignment, series = world
    body = _mask(series).tobytes()
    first = _upload(client, assignment, body, shape=_shape(series)).json()
    second = _upload(client, assignment, gzip.compress(body), shape=_shape(series)).json()
    assert first["sha256"] == second["sha256"]
    assert ReaderSegmentation.objects.filter(assignment=assignment).count() == 1


@pytest.mark.parametrize(
    ("make", "shape", "content_type", "words"),
    [
        (lambda s: _mask(s).tobytes(), "3,64,64", None, "differs from the series grid"),
        (lambda s: _mask(s).tobytes(), "", None, "needs its shape"),
        (lambda s: _mask(s).tobytes()[:-1], "grid", None, "voxels; the series grid"),
        (lambda s: (_mask(s) * 2).tobytes(), "grid", None, "must be binary"),
        (lambda s: np.zeros(_grid(s), np.uint8).tobytes(), "grid", None, "empty"),
        (lambda s: b"\x1f\x8bnot gzip", "grid", None, "not valid gzip"),
        (lambda s: b"", "grid", None, "empty"),
        (lambda s: b"{}", "grid", "application/json", "send the mask as"),
        (lambda s: b"\x00" * 400, "", "application/x-nifti", "not a readable NIfTI"),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(world, make, shape, content_type, words):
    client, assignment, series = world
    shape = _shape(series) if shape == "grid" else shape
    r = _upload(
        client, assignment, make(series), shape=shape,
        content_type=content_type or "application/octet-stream",
    )  # fmt: skip
    assert r.status_code == 400, r.content
    assert r.json()["code"] == "invalid_segmentation"
    assert words in r.json()["detail"]
    assert not ReaderSegmentation.objects.exists()


def _nifti(array, reference, tmp_path, *, origin_shift=0.0) -> bytes:
    image = sitk.GetImageFromArray(array)
    image.CopyInformation(reference)
    image.SetOrigin(tuple(v + origin_shift for v in reference.GetOrigin()))
    path = tmp_path / "mask.nii.gz"
    sitk.WriteImage(image, str(path), useCompression=True)
    return path.read_bytes()


def test_a_nifti_on_the_grid_is_taken_and_one_elsewhere_refused(world, tmp_path):
    client, assignment, series = world
    with local_copy(series.volume) as ref_path:
        reference = sitk.ReadImage(str(ref_path))
    nifti = "application/x-nifti"
    shifted = _nifti(_mask(series), reference, tmp_path, origin_shift=4.0)
    r = _upload(client, assignment, shifted, content_type=nifti)
    assert r.status_code == 400 and "geometry" in r.json()["detail"]
    r = _upload(client, assignment, _nifti(_mask(series), reference, tmp_path), content_type=nifti)
    assert r.status_code == 201 and r.json()["voxels"] == 300


def test_uploads_end_with_the_lock_and_belong_to_the_reader(world):
    client, assignment, series = world
    body = _mask(series).tobytes()
    sha = _upload(client, assignment, body, shape=_shape(series)).json()["sha256"]
    r = client.post(
        f"/api/reading/assignments/{assignment.pk}/submit/",
        json.dumps({"answers": BASE, "client_request_id": "x", "lock": True}),
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    r = _upload(client, assignment, gzip.compress(body[::-1]), shape=_shape(series))
    assert r.status_code == 409
    other = ReaderFactory()
    client.force_login(other)
    assert _upload(client, assignment, body, shape=_shape(series)).status_code == 404
    url = f"/api/reading/assignments/{assignment.pk}/segmentations/{sha}/"
    assert client.get(url).status_code == 404


def test_only_a_marks_question_takes_a_mask(world):
    client, assignment, series = world
    r = client.post(
        f"/api/reading/assignments/{assignment.pk}/segmentations/?question=diagnosis"
        f"&shape={_shape(series)}",
        _mask(series).tobytes(),
        content_type="application/octet-stream",
    )
    assert r.status_code == 400 and "not a marks question" in r.json()["detail"]


def test_an_aided_read_may_keep_the_unaided_segmentation(tmp_path, client):
    from readerstudy.reading import services
    from readerstudy.studies.models import Assignment, Design

    reader, unaided, series = build_world(tmp_path, design=Design.SEQUENTIAL_PER_CASE)
    client.force_login(reader)
    body = _upload(client, unaided, _mask(series).tobytes(), shape=_shape(series)).json()
    seg = {k: body[k] for k in ("file", "sha256", "voxels")}
    answer = {**BASE, "lesions": {"marks": [], "slice_marks": [], "segmentation": seg}}
    services.submit(reader, unaided.pk, answer, client_request_id="u", lock=True)
    aided = Assignment.objects.get(reader__user=reader, prerequisite=unaided)
    services.start(reader, aided.pk)
    services.save_draft(reader, aided.pk, answer)  # the prefilled answer is accepted
    assert client.get(body["url"].replace(str(unaided.pk), str(aided.pk), 1)).status_code == 200
