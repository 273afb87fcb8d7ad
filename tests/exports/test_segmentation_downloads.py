# ruff: noqa: F811  (``world``, the fixture imported below, is each test's argument)
"""A study's reader segmentations downloaded together (DICOM SEG or NIfTI zip, streamed), its
lesion-marks page (scoring, downloads, Dice), and the radiomic features of the segmentations."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile

import numpy as np
import pandas as pd
import pydicom
import pytest
import SimpleITK as sitk
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from readerstudy.analysis.icc import validate_features
from readerstudy.audit.models import AuditEntry
from readerstudy.exports.models import LocalizationScoring
from readerstudy.exports.segmentation_archive import MANIFEST_COLUMNS, checked_segmentations
from readerstudy.studies import services as study_services
from tests.exports.test_froc_segmentations import world  # noqa: F401  (the fixture)
from tests.factories import CoordinatorFactory, ReaderFactory, StatisticianFactory

pytestmark = pytest.mark.django_db


def _zip(client, study, fmt) -> tuple[object, zipfile.ZipFile]:
    response = client.get(f"/api/exports/studies/{study.pk}/segmentations/archive/{fmt}/")
    assert response.status_code == 200, response.content
    assert response.streaming and response["Content-Type"] == "application/zip"
    data = b"".join(response.streaming_content)
    return response, zipfile.ZipFile(io.BytesIO(data))


def _manifest(archive: zipfile.ZipFile) -> list[dict]:
    return list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))


def test_the_nifti_zip_holds_every_locked_segmentation_as_stored(
    world,
    client,
    tmp_path,
):
    study, series, masks = world
    client.force_login(CoordinatorFactory())
    response, archive = _zip(client, study, "nifti")
    assert 'filename="segmentations-segmentations-nifti.zip"' in response["Content-Disposition"]
    rows = _manifest(archive)
    assert tuple(rows[0]) == MANIFEST_COLUMNS
    assert sorted((r["reader"], r["condition"]) for r in rows) == sorted(masks)
    assert sorted(archive.namelist()) == sorted(["manifest.csv", *(r["file"] for r in rows)])
    for row in rows:
        data = archive.read(row["file"])
        assert hashlib.sha256(data).hexdigest() == row["sha256"]
        assert row["file"] == f"{series.case.code}-{row['reader']}-s1-{row['condition']}.nii.gz"
        path = tmp_path / row["file"]
        path.write_bytes(data)
        voxels = sitk.GetArrayFromImage(sitk.ReadImage(str(path))) > 0
        assert np.array_equal(voxels, masks[(row["reader"], row["condition"])] > 0)
        assert int(row["voxels"]) == int(voxels.sum())
    entry = AuditEntry.objects.get(kind="export.download", additional_data__table="segmentations")
    assert entry.additional_data == {"table": "segmentations", "format": "nifti", "reads": 3}


def test_the_seg_zip_holds_one_dicom_seg_per_read_equal_to_the_single_download(
    world,
    client,
):
    study, series, masks = world
    client.force_login(CoordinatorFactory())
    _, archive = _zip(client, study, "seg")
    rows = _manifest(archive)
    assert len(rows) == 3 and all(r["file"].endswith("-seg.dcm") for r in rows)
    for row in rows:
        ds = pydicom.dcmread(io.BytesIO(archive.read(row["file"])))
        assert ds.Modality == "SEG"
        assert ds.ReferencedSeriesSequence[0].SeriesInstanceUID == series.series_instance_uid
        single = client.get(
            f"/api/exports/studies/{study.pk}/segmentations/{row['assignment']}/seg/"
        )
        assert single.content == archive.read(row["file"])
    _, again = _zip(client, study, "seg")
    assert [again.read(n) for n in again.namelist()] == [
        archive.read(n) for n in archive.namelist()
    ]


def test_a_changed_file_or_an_unknown_format_is_refused_before_any_byte(world, client):
    study, *_ = world
    client.force_login(CoordinatorFactory())
    bad = client.get(f"/api/exports/studies/{study.pk}/segmentations/archive/xlsx/")
    assert bad.status_code == 400 and "choose seg or nifti" in bad.json()["detail"]
    name = checked_segmentations(study)[0].file
    with default_storage.open(name, "rb") as fh:
        original = fh.read()
    default_storage.delete(name)
    default_storage.save(name, io.BytesIO(b"changed"))
    try:
        r = client.get(f"/api/exports/studies/{study.pk}/segmentations/archive/nifti/")
        assert r.status_code == 409 and not r.streaming
        assert "does not match its sha256" in r.json()["detail"]
    finally:  # stored by content: the next test's reads store the same name
        default_storage.delete(name)
        default_storage.save(name, io.BytesIO(original))


def test_readers_get_no_segmentations_and_statisticians_wait_for_the_close(
    world,
    client,
):
    study, *_ = world
    url = f"/api/exports/studies/{study.pk}/segmentations/archive/nifti/"
    client.force_login(ReaderFactory())
    assert client.get(url).status_code == 403
    client.force_login(StatisticianFactory())
    assert client.get(url).status_code == 403
    assert client.get(f"/exports/studies/{study.pk}/marks/").status_code == 404
    study_services.close_study(study)
    assert client.get(url).status_code == 200


def test_the_marks_page_lists_the_downloads_and_the_dice_summary(world, client):
    study, *_ = world
    client.force_login(CoordinatorFactory())
    page = client.get(f"/exports/studies/{study.pk}/marks/").content.decode()
    assert "3 locked reads with a segmentation, by 2 readers (s0, s1)" in page
    assert f"/api/exports/studies/{study.pk}/segmentations/archive/seg/" in page
    assert f"/api/exports/studies/{study.pk}/segmentations/archive/nifti/" in page
    assert f"export_reader_segmentation_features {study.pk} --out FEATURES.csv" in page
    dice = page[page.index('id="dice-summary"') :]
    # blinded coordinator: one reader pair, s0's two reads, three model comparisons, no truth
    assert "<td>reader_vs_reader</td><td>1</td><td>0</td><td>0.800</td>" in dice
    assert "<td>reader_vs_model</td><td>3</td>" in dice
    assert "<td>reader_vs_truth</td><td>0</td>" in dice
    listing = client.get("/exports/").content.decode()
    assert f"/exports/studies/{study.pk}/marks/" in listing


def test_coordinators_set_the_acceptance_criterion_on_the_study_page(world, client):
    study, *_ = world
    client.force_login(CoordinatorFactory())
    page = client.get(f"/studies/{study.pk}/").content.decode()
    assert 'id="marks-scoring-form"' in page and 'name="scoring-criterion"' in page
    url = f"/exports/studies/{study.pk}/marks/"
    r = client.post(url, {"scoring-criterion": "mask", "scoring-radius_mm": "4",
                          "scoring-question_code": "lesions"})  # fmt: skip
    assert r.status_code == 302
    scoring = LocalizationScoring.objects.get(study=study)
    assert (scoring.criterion, scoring.radius_mm, scoring.use_lesion_radius) == ("mask", 4, False)
    assert scoring.question_code == "lesions"
    assert 'value="mask" selected' in client.get(f"/studies/{study.pk}/").content.decode()
    r = client.post(url, {"scoring-criterion": "distance", "scoring-radius_mm": "0",
                          "scoring-question_code": "nope"})  # fmt: skip
    assert r.status_code == 400
    page = r.content.decode()
    assert "R must be from 0.001 to 1000 mm" in page
    assert "Select a valid choice. nope is not one of the available choices." in page
    assert LocalizationScoring.objects.get(study=study).criterion == "mask"  # kept
    study_services.close_study(study)
    client.force_login(StatisticianFactory())
    assert client.post(url, {"scoring-criterion": "distance"}).status_code == 403
    text = client.get(url).content.decode()
    assert "Inside the lesion mask; question lesions." in text


def _numpy_features(image, mask, spacing):
    hu = sitk.GetArrayFromImage(image)[sitk.GetArrayFromImage(mask) > 0]
    return {"voxels": float(hu.size), "mean_hu": float(hu.mean())}


def test_features_of_the_reader_segmentations_in_the_icc_format(
    world,
    tmp_path,
    monkeypatch,
):
    study, series, masks = world
    from readerstudy.exports.management.commands import export_reader_segmentation_features

    # PyRadiomics runs in the next test; this one checks the rows against numpy
    monkeypatch.setattr(
        export_reader_segmentation_features, "radiomics_extractor", lambda params: _numpy_features
    )
    out = tmp_path / "FEATURES.csv"
    call_command("export_reader_segmentation_features", str(study.pk), "--out", str(out))
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 3 * 2
    voxels = {
        (r["rater"], r["session"]): float(r["value"]) for r in rows if r["feature"] == "voxels"
    }
    assert voxels == {
        ("s0", "s1-unaided"): float((masks[("s0", "unaided")] > 0).sum()),
        ("s0", "s1-aided"): float((masks[("s0", "aided")] > 0).sum()),
        ("s1", "s1-unaided"): float((masks[("s1", "unaided")] > 0).sum()),
    }
    checked = validate_features(pd.DataFrame([r for r in rows if r["rater"] == "s0"]))
    assert len(checked) == 4
    with pytest.raises(CommandError, match="no study with id"):
        call_command("export_reader_segmentation_features", "999999", "--out", str(out))
    with pytest.raises(CommandError, match="no locked segmentation of case RS-NONE"):
        call_command(
            "export_reader_segmentation_features", str(study.pk), "--out", str(out),
            "--case", "RS-NONE",
        )  # fmt: skip


def test_pyradiomics_features_of_the_reader_segmentations(world, tmp_path):
    study, *_ = world
    params = tmp_path / "params.yaml"
    params.write_text(
        "imageType:\n  Original: {}\nfeatureClass:\n  firstorder: [Mean, Maximum]\n"
        "setting:\n  binWidth: 25\n  label: 1\n"
    )
    out = tmp_path / "FEATURES.csv"
    call_command(
        "export_reader_segmentation_features", str(study.pk), "--out", str(out),
        "--params", str(params),
    )  # fmt: skip
    rows = list(csv.DictReader(out.open()))
    assert {r["feature"] for r in rows} == {
        "original_firstorder_Mean",
        "original_firstorder_Maximum",
    }
    assert len(rows) == 3 * 2 and {r["rater"] for r in rows} == {"s0", "s1"}
