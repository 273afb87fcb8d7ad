"""The mask files travel: the cases' truth masks and a truth panel's annotator and consensus
masks are in the bundle as stored (``masks/<sha256>.nii.gz``, each in the manifest), and the
import stores them again and points the rebuilt rows at them, refusing a file that was altered
or is missing, with nothing imported."""

import csv
import hashlib
import io
import json

import numpy as np
import pytest
import SimpleITK as sitk
from django.core.files.storage import default_storage

from readerstudy.analysis.bundle import MANIFEST, BundleError
from readerstudy.cases.models import HematomaMask
from readerstudy.cases.storage import save_content_addressed
from readerstudy.exports.bundle_export import export_bundle
from readerstudy.exports.bundle_import import import_bundle
from readerstudy.exports.bundle_masks import CASE_MASKS, PANEL_MASKS
from readerstudy.exports.bundle_panel import TRUTH
from readerstudy.panels.models import Panel, PanelMask, PanelTruth
from readerstudy.studies.models import ReaderStudy
from tests.exports.bundle_files import FAST, members, rewrite
from tests.exports.bundle_study import build_closed_study
from tests.exports.test_bundle_panel import _flush

pytestmark = pytest.mark.django_db


def _nifti(seed: int) -> bytes:
    """A small gzipped NIfTI mask (its bytes differ with ``seed``)."""
    array = np.zeros((3, 8, 8), dtype=np.uint8)
    array[1, seed % 8, : seed % 7 + 1] = 1
    path = default_storage.path(f"tmp-{seed}.nii.gz")
    sitk.WriteImage(sitk.GetImageFromArray(array), path, useCompression=True)
    with open(path, "rb") as handle:
        data = handle.read()
    default_storage.delete(f"tmp-{seed}.nii.gz")
    return data


def _masked_panel_study() -> ReaderStudy:
    """A closed panel-truth study whose panel drew masks: three annotators' uploads of the
    first two cases (A1 uploaded twice there), the consensus as the panel truth's mask and as
    the case's truth mask of the first, and another truth mask of the third case."""
    study = build_closed_study(n_cases=4, truth_panel=True)
    panel = Panel.objects.get(pk=study.truth_panel_id)
    seats = list(panel.annotators.order_by("position"))
    pcs = list(panel.panel_cases.select_related("case__primary_series").order_by("case__code"))
    seed = 1
    for pc in pcs[:2]:
        for seat in seats + seats[:1]:
            name, digest = save_content_addressed("panels/masks", _nifti(seed), ".nii.gz")
            PanelMask.objects.create(
                panel_case=pc, annotator=seat, series=pc.case.primary_series, file=name,
                sha256=digest, voxels=seed,
            )  # fmt: skip
            seed += 1
    name, digest = save_content_addressed("masks", _nifti(50), ".nii.gz")
    PanelTruth.objects.filter(panel=panel, case=pcs[0].case).update(
        mask_file=name, mask_sha256=digest, mask_voxels=4, mask_volume_ml=0.25
    )
    HematomaMask.objects.create(
        case=pcs[0].case, series=pcs[0].case.primary_series, file=name, voxels=4, volume_ml=0.25
    )
    other, _ = save_content_addressed("masks", _nifti(51), ".nii.gz")
    HematomaMask.objects.create(
        case=pcs[2].case, series=pcs[2].case.primary_series, file=other, voxels=5, volume_ml=0.5
    )
    return study


def _table(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode())))


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def _read(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def _masks(study: ReaderStudy) -> dict:
    """Every mask of the study by natural keys, with the bytes of its file."""
    panel = Panel.objects.get(pk=study.truth_panel_id)
    return {
        "uploads": sorted(
            (m.panel_case.case.code, m.annotator.user.username, m.series.series_instance_uid,
             m.sha256, m.voxels, m.created_at, _read(m.file))
            for m in PanelMask.objects.filter(panel_case__panel=panel)
        ),
        "consensus": sorted(
            (t.case.code, t.mask_sha256, t.mask_voxels, _read(t.mask_file))
            for t in PanelTruth.objects.filter(panel=panel).exclude(mask_file="")
        ),
        "cases": sorted(
            (m.case.code, m.series.series_instance_uid, m.voxels, m.volume_ml, _read(m.file))
            for m in HematomaMask.objects.filter(case__study_memberships__study=study)
        ),
    }  # fmt: skip


def _stored() -> list[str]:
    names = []
    for folder in ("masks", "panels/masks"):
        if default_storage.exists(folder):
            for sub in default_storage.listdir(folder)[0]:
                names += [
                    f"{folder}/{sub}/{f}" for f in default_storage.listdir(f"{folder}/{sub}")[1]
                ]
    return names


def _empty() -> None:
    """An empty database and no stored mask: what comes back comes from the bundle."""
    _flush()
    for name in _stored():
        default_storage.delete(name)


@pytest.fixture
def masked(tmp_path):
    study = _masked_panel_study()
    before = _masks(study)
    path = tmp_path / "masks.zip"
    export_bundle(study, path, report_options=FAST)
    _empty()
    return path, before


def test_the_masks_come_back_byte_identical(masked, tmp_path):
    path, before = masked
    files = members(path)
    mask_files = sorted(n for n in files if n.startswith("masks/"))
    assert len(mask_files) == 2 * 4 + 2  # eight uploads, the consensus once, the other mask
    manifest = json.loads(files[MANIFEST])
    assert manifest["format_version"] == 3
    for name in mask_files:
        digest = hashlib.sha256(files[name]).hexdigest()
        assert name == f"masks/{digest}.nii.gz" and manifest["files"][name]["sha256"] == digest
    uploads = files[PANEL_MASKS.name].decode().splitlines()
    assert len(uploads) == 1 + 8 and uploads[0].startswith("case,annotator,series,file,sha256,")
    assert files[TRUTH.name].decode().count("masks/") == 1
    assert files[CASE_MASKS.name].decode().count("masks/") == 2
    assert _stored() == [] and PanelMask.objects.count() == 0

    imported = import_bundle(path).study

    assert _masks(imported) == before
    again = tmp_path / "again.zip"
    export_bundle(imported, again, report_options=FAST)
    second = members(again)
    for name in [PANEL_MASKS.name, TRUTH.name, CASE_MASKS.name, *mask_files]:
        assert second[name] == files[name], name


@pytest.mark.parametrize("rehash", [False, True])
def test_an_altered_mask_file_is_refused_naming_it(masked, tmp_path, rehash):
    path, _ = masked
    files = members(path)
    name = sorted(n for n in files if n.startswith("masks/"))[3]
    data = bytearray(files[name])
    data[len(data) // 2] ^= 0x01
    files[name] = bytes(data)
    with pytest.raises(BundleError) as error:
        import_bundle(rewrite(path, tmp_path / "t.zip", files, rehash=rehash))
    assert error.value.code == "hash_mismatch" and name in error.value.message
    assert (ReaderStudy.objects.count(), Panel.objects.count(), HematomaMask.objects.count()) == (
        0,
        0,
        0,
    )
    assert _stored() == []  # the masks stored before the refusal are gone again


def test_a_missing_mask_file_is_refused_naming_it(masked, tmp_path):
    path, _ = masked
    files = members(path)
    name = sorted(n for n in files if n.startswith("masks/"))[-1]
    del files[name]
    with pytest.raises(BundleError) as error:
        import_bundle(rewrite(path, tmp_path / "m.zip", files, rehash=True))
    assert error.value.code == "missing_part" and name in error.value.message
    assert ReaderStudy.objects.count() == 0 and _stored() == []


def test_a_row_whose_sha256_is_not_its_file_s_is_refused(masked, tmp_path):
    path, _ = masked
    files = members(path)
    rows = _table(files[PANEL_MASKS.name])
    rows[1][rows[0].index("sha256")] = "0" * 64
    files[PANEL_MASKS.name] = _csv(rows)
    with pytest.raises(BundleError) as error:
        import_bundle(rewrite(path, tmp_path / "s.zip", files, rehash=True))
    assert (
        error.value.code == "hash_mismatch" and f"{PANEL_MASKS.name} row 2" in error.value.message
    )
    assert Panel.objects.count() == 0


def test_a_version_2_bundle_without_masks_is_still_read(masked, tmp_path):
    path, before = masked
    files = {n: d for n, d in members(path).items() if not n.startswith("masks/")}
    del files[CASE_MASKS.name], files[PANEL_MASKS.name]
    rows = _table(files[TRUTH.name])
    at = rows[0].index("mask_file")
    assert sum(row[at].startswith("masks/") for row in rows) == 1
    files[TRUTH.name] = _csv([row[:at] + row[at + 1 :] for row in rows])
    manifest = json.loads(files[MANIFEST])
    manifest["format_version"] = 2
    files[MANIFEST] = json.dumps(manifest).encode()
    imported = import_bundle(rewrite(path, tmp_path / "v2.zip", files, rehash=True)).study
    assert imported.truth_source == "panel"
    assert PanelMask.objects.count() == 0 and HematomaMask.objects.count() == 0
    truth = PanelTruth.objects.get(panel=imported.truth_panel, case__code=before["consensus"][0][0])
    assert (truth.mask_file, truth.mask_sha256) == ("", before["consensus"][0][1])


def test_a_case_that_has_another_truth_mask_here_is_refused(masked, tmp_path):
    path, before = masked
    import_bundle(path)
    with pytest.raises(BundleError) as error:  # the same masks: only the study is refused
        import_bundle(path)
    assert error.value.code == "already_imported"
    code = before["cases"][0][0]
    other, _ = save_content_addressed("masks", _nifti(60), ".nii.gz")
    HematomaMask.objects.filter(case__code=code).update(file=other)
    with pytest.raises(BundleError) as error:
        import_bundle(path)
    assert error.value.code == "truth_mismatch" and code in error.value.message


def test_an_export_whose_stored_mask_is_gone_is_refused(tmp_path):
    study = _masked_panel_study()
    gone = HematomaMask.objects.filter(case__study_memberships__study=study).order_by("-voxels")[0]
    default_storage.delete(gone.file)
    out = tmp_path / "x.zip"
    with pytest.raises(BundleError) as error:
        export_bundle(study, out, report_options=FAST)
    assert error.value.code == "missing_part" and gone.file in error.value.message
    assert not out.exists() and list(tmp_path.iterdir()) == []
