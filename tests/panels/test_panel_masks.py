"""Hematoma masks as a panel label kind: each annotator uploads the mask drawn in the viewer,
the masks are voted voxel by voxel, the consensus becomes the panel truth's mask (stored as
the cases' truth masks are) with its provenance, Dice between annotators is reported, and no
annotator can fetch another's mask."""

import gzip

import numpy as np
import pytest
import SimpleITK as sitk
from django.test import TestCase

from readerstudy.cases.ingest import import_study
from readerstudy.cases.storage import local_copy
from readerstudy.panels import services
from readerstudy.panels.errors import PanelError
from readerstudy.panels.models import ConsensusMask, PanelMask, PanelTruth
from readerstudy.panels.selectors import report
from tests.factories import PASSWORD, AdjudicatorFactory, AnnotatorFactory, CoordinatorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tmp_path):
    from phantoms import generate_dataset

    records = generate_dataset(tmp_path / "ph", 1, 5, matrix=64, positive_fraction=1.0)
    case = import_study(tmp_path / "ph" / records[0]["case_id"]).case
    annotators = [AnnotatorFactory() for _ in range(3)]
    panel = services.create_panel(
        title="Mask panel", cases=[case], annotators=annotators,
        adjudicator=AdjudicatorFactory(), labels=["ich_present", "hematoma_mask"],
        created_by=CoordinatorFactory(),
    )  # fmt: skip
    return panel, case, annotators


def _grid(series):
    return (series.num_slices, series.rows, series.columns)


def _box(series, rows, cols, slices=(10, 12)):
    mask = np.zeros(_grid(series), dtype=np.uint8)
    mask[slices[0] : slices[1], rows[0] : rows[1], cols[0] : cols[1]] = 1
    return mask


def _as(client, user):
    client.logout()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _upload(client, panel, case, mask, *, shape=None):
    shape = shape or ",".join(map(str, mask.shape))
    return client.post(
        f"/panels/{panel.pk}/annotate/{case.code}/segmentations/?shape={shape}",
        gzip.compress(mask.tobytes()),
        content_type="application/octet-stream",
    )


def _draw(client, panel, case, user, mask):
    """Upload as the user and submit the annotation naming the mask (the vote the last one
    queues runs); its sha256."""
    r = _upload(_as(client, user), panel, case, mask)
    assert r.status_code == 201, r.content
    sha = r.json()["sha256"]
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.annotate(
            user, panel.pk, case.code, {"ich_present": True, "hematoma_mask": {"sha256": sha}}
        )
    return sha


def test_an_upload_is_kept_as_nifti_on_the_series_grid(world, client):
    panel, case, (a1, *_) = world
    series = case.primary_series
    mask = _box(series, (20, 30), (25, 40))
    r = _upload(_as(client, a1), panel, case, mask)
    assert r.status_code == 201, r.content
    assert r.json()["voxels"] == int(mask.sum()) == 300
    stored = PanelMask.objects.get()
    with local_copy(stored.file) as path, local_copy(series.volume) as ref:
        image, reference = sitk.ReadImage(str(path)), sitk.ReadImage(str(ref))
    assert np.allclose(image.GetOrigin(), reference.GetOrigin())
    assert np.array_equal(sitk.GetArrayFromImage(image), mask)
    back = client.get(f"/panels/{panel.pk}/annotate/{case.code}/segmentations/{stored.sha256}/")
    assert back.status_code == 200
    restored = np.frombuffer(gzip.decompress(back.content), dtype=np.uint8)
    assert np.array_equal(restored.reshape(mask.shape), mask)


@pytest.mark.parametrize(
    ("shape", "body", "message"),
    [
        ("2,2,2", None, "differs from the series grid"),
        (None, np.full((1,), 3, np.uint8), "must be binary"),
        (None, np.zeros((1,), np.uint8), "the mask is empty"),
    ],
)
def test_bad_uploads_are_refused_with_the_reason(world, client, shape, body, message):
    panel, case, (a1, *_) = world
    mask = _box(case.primary_series, (1, 2), (1, 2))
    if body is not None:
        mask = np.full(mask.shape, body[0], np.uint8)
    r = _upload(_as(client, a1), panel, case, mask, shape=shape)
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_segmentation" and message in r.json()["detail"]
    assert PanelMask.objects.count() == 0


def test_the_annotation_names_one_of_the_annotator_s_own_masks(world, client):
    panel, case, (a1, a2, _) = world
    sha = _upload(_as(client, a1), panel, case, _box(case.primary_series, (2, 9), (2, 9))).json()[
        "sha256"
    ]
    with pytest.raises(PanelError, match="draw the hematoma mask"):
        services.annotate(a2, panel.pk, case.code, {"ich_present": True})
    with pytest.raises(PanelError, match="no mask of yours"):
        services.annotate(
            a2, panel.pk, case.code, {"ich_present": True, "hematoma_mask": {"sha256": sha}}
        )
    with pytest.raises(PanelError, match="only when ICH is present"):
        services.annotate(
            a1, panel.pk, case.code, {"ich_present": False, "hematoma_mask": {"sha256": sha}}
        )
    services.annotate(
        a1, panel.pk, case.code, {"ich_present": True, "hematoma_mask": {"sha256": sha}}
    )


def test_annotators_cannot_fetch_each_other_s_masks(world, client):
    panel, case, (a1, a2, _) = world
    sha = _upload(_as(client, a1), panel, case, _box(case.primary_series, (2, 9), (2, 9))).json()[
        "sha256"
    ]
    url = f"/panels/{panel.pk}/annotate/{case.code}/segmentations/{sha}/"
    assert _as(client, a1).get(url).status_code == 200
    assert _as(client, a2).get(url).status_code == 404
    assert _as(client, panel.adjudicator).get(url).status_code == 403
    services.annotate(
        a1, panel.pk, case.code, {"ich_present": True, "hematoma_mask": {"sha256": sha}}
    )
    page = _as(client, a2).get(f"/panels/{panel.pk}/annotate/{case.code}/").content.decode()
    assert sha not in page


def test_majority_voxel_vote_dice_and_the_truth_mask_with_provenance(world, client):
    panel, case, annotators = world
    series = case.primary_series
    masks = [
        _box(series, (20, 30), (20, 30)),  # A1: 10 x 10 on two slices
        _box(series, (20, 30), (25, 35)),  # A2: shifted 5 columns
        _box(series, (40, 45), (40, 45)),  # A3: elsewhere
    ]
    for user, mask in zip(annotators, masks, strict=True):
        _draw(client, panel, case, user, mask)
    consensus = ConsensusMask.objects.get()
    expected = (sum(m.astype(int) for m in masks) >= 2).astype(np.uint8)
    assert consensus.voxels == int(expected.sum()) == 2 * 10 * 5
    with local_copy(consensus.file) as path:
        stored = sitk.GetArrayFromImage(sitk.ReadImage(str(path)))
    assert np.array_equal(stored, expected)
    assert consensus.file.startswith("masks/")  # where the cases' truth masks are kept
    assert consensus.dice["pairs"]["A1-A2"] == pytest.approx(2 * 100 / 400)
    assert consensus.dice["pairs"]["A1-A3"] == 0.0
    assert consensus.dice["to_consensus"]["A1"] == pytest.approx(2 * 100 / 300)
    data = report(panel)
    assert data["masks"][0]["pairs"]["A1-A2"] == pytest.approx(0.5)
    assert data["mask_dice"]["A1-A2"] == pytest.approx(0.5)

    services.finalize(CoordinatorFactory(), panel.pk)
    truth = PanelTruth.objects.get()
    assert (truth.mask_file, truth.mask_voxels) == (consensus.file, 100)
    voxel_ml = series.pixel_spacing_row * series.pixel_spacing_col * series.slice_spacing / 1000
    assert truth.mask_volume_ml == pytest.approx(100 * voxel_ml)
    provenance = truth.provenance["hematoma_mask"]
    assert provenance["method"] == "vote" and "majority voxel vote" in provenance["consensus"]
    assert provenance["annotators"] == [u.username for u in annotators]
    coordinator = CoordinatorFactory()
    page = _as(client, coordinator).get(f"/panels/{panel.pk}/report/").content.decode()
    assert "Hematoma masks" in page and "0.500" in page


def test_a_no_ich_annotation_counts_as_an_empty_mask_and_ties_are_background(tmp_path, client):
    from phantoms import generate_dataset

    records = generate_dataset(tmp_path / "ph", 1, 5, matrix=64, positive_fraction=1.0)
    case = import_study(tmp_path / "ph" / records[0]["case_id"]).case
    a1, a2 = AnnotatorFactory(), AnnotatorFactory()
    panel = services.create_panel(
        title="Two", cases=[case], annotators=[a1, a2], adjudicator=AdjudicatorFactory(),
        labels=["ich_present", "hematoma_mask"],
    )  # fmt: skip
    _draw(client, panel, case, a1, _box(case.primary_series, (2, 9), (2, 9)))
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.annotate(a2, panel.pk, case.code, {"ich_present": False})
    consensus = ConsensusMask.objects.get()
    assert consensus.voxels == 0 and consensus.file == ""  # 1 of 2 is no majority
    assert consensus.annotator_voxels == {"A1": 2 * 7 * 7, "A2": 0}
    assert consensus.dice["pairs"]["A1-A2"] == 0.0


def test_uploads_are_refused_once_annotation_is_over_and_on_panels_without_masks(world, client):
    panel, case, annotators = world
    series = case.primary_series
    for n, user in enumerate(annotators):
        _draw(client, panel, case, user, _box(series, (2, 9), (2 + n, 9 + n)))
    late = _upload(_as(client, annotators[0]), panel, case, _box(series, (2, 9), (2, 9)))
    assert late.status_code == 409 and late.json()["code"] == "panel_closed"
    other = services.create_panel(
        title="No masks", cases=[case], annotators=annotators[:2],
        adjudicator=panel.adjudicator, labels=["ich_present"],
    )  # fmt: skip
    refused = _upload(client, other, case, _box(series, (2, 9), (2, 9)))
    assert refused.status_code == 400 and refused.json()["code"] == "no_masks"
    outsider = _upload(_as(client, AnnotatorFactory()), panel, case, _box(series, (2, 9), (2, 9)))
    assert outsider.status_code == 404
    assert PanelMask.objects.count() == 3
