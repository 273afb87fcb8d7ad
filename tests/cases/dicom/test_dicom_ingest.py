"""prepare_upload end to end: phantom folder, zip with extras, fatal vs excluded errors."""

import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import generate_uid

from readerstudy.cases.dicom.errors import DicomIngestError, ErrorCode, Severity
from readerstudy.cases.dicom.ingest import IngestOptions, prepare_upload

from . import dicom_synth as S

SECRET = b"test-site-secret-0123456789abcdef"


class Pseudonyms:
    def __init__(self):
        self.keys = []

    def __call__(self, key: str) -> str:
        self.keys.append(key)
        return f"CASE{len(self.keys):04d}"


def _phi_values(ds) -> set[str]:
    vals = set()
    for kw in (
        "PatientName",
        "PatientID",
        "AccessionNumber",
        "InstitutionName",
        "InstitutionAddress",
        "ReferringPhysicianName",
        "StationName",
        "PerformingPhysicianName",
        "OperatorsName",
        "PatientAddress",
        "StudyDate",
        "PatientBirthDate",
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "FrameOfReferenceUID",
        "SOPInstanceUID",
        "StudyID",
    ):
        v = ds.get(kw)
        if v not in (None, ""):
            vals.add(str(v))
    for el in ds:
        if el.tag.is_private and isinstance(el.value, str) and len(el.value) > 3:
            vals.add(el.value)
    return {v for v in vals if len(v) >= 4}


def test_phantom_folder_end_to_end(tmp_path):
    phantoms = pytest.importorskip("phantoms")
    case = phantoms.make_case(3, "cvst_ich", matrix=64)
    info = phantoms.write_case(case, tmp_path / "upload")
    folder = Path(info["path"])
    originals = [pydicom.dcmread(p) for p in sorted(folder.glob("*.dcm"))]
    phi = set().union(*(_phi_values(d) for d in originals))
    assert any(d.PatientName and str(d.PatientName) in phi for d in originals)
    pseudo = Pseudonyms()
    res = prepare_upload(folder, pseudonym_for=pseudo, secret=SECRET)
    assert res.ok, res.errors
    assert pseudo.keys
    assert all(str(originals[0].PatientID) not in k for k in pseudo.keys)
    prim = res.primary
    assert prim.info.n_slices == info["n_slices"] == len(originals)
    assert prim.pseudonym == "CASE0001"
    # no original identifying value anywhere in what the caller gets
    blobs = [b for _, b in prim.iter_files()]
    text = json.dumps(res.summary()) + json.dumps([lg.as_dict() for lg in res.deid_logs])
    for v in phi:
        assert v not in text
        for b in blobs:
            assert v.encode() not in b, v
    out0 = pydicom.dcmread(io.BytesIO(blobs[0]))
    assert out0.PatientName == "CASE0001"
    assert out0.PatientIdentityRemoved == "YES"
    assert len({pydicom.dcmread(io.BytesIO(b)).SeriesInstanceUID for b in blobs}) == 1
    # HU volume and geometry match the phantom's own image
    ref = case.to_sitk()
    img = prim.to_sitk()
    assert img.GetSize() == ref.GetSize()
    assert img.GetSpacing() == pytest.approx(ref.GetSpacing(), abs=1e-4)
    assert img.GetOrigin() == pytest.approx(ref.GetOrigin(), abs=1e-3)
    assert img.GetDirection() == pytest.approx(ref.GetDirection(), abs=1e-6)
    import SimpleITK as sitk

    got = sitk.GetArrayFromImage(img).astype(float)
    want = sitk.GetArrayFromImage(ref).astype(float)
    assert np.abs(got - np.clip(np.rint(want), -1024, None)).max() <= 1.0
    nii = prim.write_nifti(tmp_path / "vol.nii.gz")
    assert sitk.ReadImage(str(nii)).GetSize() == ref.GetSize()
    exe = shutil.which("dciodvfy")
    if exe:  # the de-identified phantom is still a valid CT Image (dicom3tools)
        (tmp_path / "deid.dcm").write_bytes(blobs[0])
        rep = subprocess.run([exe, str(tmp_path / "deid.dcm")], capture_output=True, text=True)
        report = rep.stdout + rep.stderr
        assert "CTImage" in report
        assert [ln for ln in report.splitlines() if ln.startswith("Error")] == [], report


def _write(series, folder: Path, prefix="IM"):
    return S.write_series(series, folder, prefix)


def test_zip_with_extra_series_and_junk_keeps_the_primary(tmp_path):
    study = generate_uid()
    thick = S.make_ct_series(6, spacing=5.0, study_uid=study)
    thin = S.make_ct_series(12, spacing=1.0, study_uid=study)
    scout = S.make_ct_series(2, study_uid=study)
    dose = S.make_ct_series(1, study_uid=study)[0]
    dose.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, group in (("SE1", thick), ("SE2", thin), ("SE3", scout)):
            for i, ds in enumerate(group):
                zf.writestr(f"DOE_JANE_QZX/{name}/IM{i:04d}.dcm", S.to_bytes(ds))
        zf.writestr("DOE_JANE_QZX/SE9/IM0001.dcm", S.to_bytes(dose))
        zf.writestr("README.txt", "Patient DOE_JANE_QZX scanned at QZX hospital")
        zf.writestr("inner.zip", b"PK\x03\x04rest")
        zf.writestr("__MACOSX/._IM0001.dcm", b"junk")
    z = tmp_path / "upload.zip"
    z.write_bytes(buf.getvalue())
    res = prepare_upload(z, pseudonym_for=Pseudonyms(), secret=SECRET)
    assert res.ok, res.fatal_errors
    assert res.primary.info.n_slices == 6
    assert len(res.series) == 3
    # the series pass 2 did not read keep their summary but no longer hold their headers
    left_out = [s for s in res.series if s.series_uid != res.primary.series_uid]
    assert sorted(s.n_slices for s in left_out) == [2, 12]
    assert all(s.datasets == [] for s in left_out)
    codes = {e.code: e for e in res.errors}
    assert set(codes) == {
        ErrorCode.ABSURD_DIMENSIONS,
        ErrorCode.SECONDARY_CAPTURE,
        ErrorCode.NOT_DICOM,
        ErrorCode.NESTED_ARCHIVE,
    }
    assert all(e.severity == Severity.EXCLUDED for e in res.errors)
    dump = json.dumps(res.summary())
    assert "QZX" not in dump
    assert "DOE_JANE" not in dump
    assert codes[ErrorCode.NOT_DICOM].file == "README.txt"
    # all series are de-identified in the summary; the thin one can be loaded on request
    res_all = prepare_upload(
        z, pseudonym_for=Pseudonyms(), secret=SECRET, options=IngestOptions(load="all")
    )
    assert [s.info.n_slices for s in res_all.loaded] == [6, 12]
    assert res_all.primary.series_uid == res.primary.series_uid
    # override by the original SeriesInstanceUID
    res_thin = prepare_upload(
        z,
        pseudonym_for=Pseudonyms(),
        secret=SECRET,
        options=IngestOptions(primary_series=thin[0].SeriesInstanceUID),
    )
    assert res_thin.ok
    assert res_thin.primary.info.n_slices == 12
    strict = prepare_upload(
        z, pseudonym_for=Pseudonyms(), secret=SECRET, options=IngestOptions(strict=True)
    )
    assert not strict.ok


def test_missing_slice_in_the_primary_series_is_fatal(tmp_path):
    series = S.make_ct_series(8, shuffle_seed=None)
    del series[5]
    _write(series, tmp_path / "u")
    res = prepare_upload(tmp_path / "u", pseudonym_for=Pseudonyms(), secret=SECRET)
    assert not res.ok
    assert res.primary is None
    fatal = {e.code for e in res.fatal_errors}
    assert ErrorCode.NO_PRIMARY_SERIES in fatal
    assert ErrorCode.MISSING_SLICES in {e.code for e in res.errors}
    with pytest.raises(DicomIngestError):
        res.raise_for_errors()
    # naming the series makes its own error fatal
    res2 = prepare_upload(
        tmp_path / "u",
        pseudonym_for=Pseudonyms(),
        secret=SECRET,
        options=IngestOptions(primary_series=series[0].SeriesInstanceUID),
    )
    assert ErrorCode.MISSING_SLICES in {e.code for e in res2.fatal_errors}


def test_truncated_and_undecodable_files_fail_the_upload(tmp_path):
    series = S.make_ct_series(5, shuffle_seed=None)
    paths = _write(series, tmp_path / "u")
    data = paths[2].read_bytes()
    paths[2].write_bytes(data[: len(data) - 50])
    res = prepare_upload(tmp_path / "u", pseudonym_for=Pseudonyms(), secret=SECRET)
    assert not res.ok
    assert ErrorCode.TRUNCATED in {e.code for e in res.fatal_errors}


def test_mixed_patients_are_refused_unless_allowed(tmp_path):
    a = S.make_ct_series(4, patient_id="A")
    b = S.make_ct_series(4, patient_id="B")
    items = [(f"a{i}.dcm", S.to_bytes(d)) for i, d in enumerate(a)]
    items += [(f"b{i}.dcm", S.to_bytes(d)) for i, d in enumerate(b)]
    pseudo = Pseudonyms()
    res = prepare_upload(items, pseudonym_for=pseudo, secret=SECRET)
    assert ErrorCode.MIXED_PATIENTS in {e.code for e in res.fatal_errors}
    assert len(set(pseudo.keys)) == 2
    ok = prepare_upload(
        items,
        pseudonym_for=Pseudonyms(),
        secret=SECRET,
        options=IngestOptions(require_single_patient=False),
    )
    assert ok.ok
    assert len(ok.patient_keys) == 2


def test_same_series_prepared_twice_gets_the_same_uids(tmp_path):
    series = S.make_ct_series(6)
    items = [(f"IM{i}.dcm", S.to_bytes(d)) for i, d in enumerate(series)]
    r1 = prepare_upload(items[:3] + items[3:], pseudonym_for=Pseudonyms(), secret=SECRET)
    r2 = prepare_upload(list(reversed(items)), pseudonym_for=Pseudonyms(), secret=SECRET)
    assert r1.primary.series_uid == r2.primary.series_uid != series[0].SeriesInstanceUID
    assert [d.SOPInstanceUID for d in r1.primary.datasets] == [
        d.SOPInstanceUID for d in r2.primary.datasets
    ]


def test_unsafe_archive_returns_a_fatal_error(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../../etc/evil.dcm", b"x")
    z = tmp_path / "evil.zip"
    z.write_bytes(buf.getvalue())
    res = prepare_upload(z, pseudonym_for=Pseudonyms(), secret=SECRET)
    assert not res.ok
    assert res.errors[0].code == ErrorCode.UNSAFE_PATH


def test_pixels_let_go_in_pass_2_are_read_again_per_slice(tmp_path):
    """keep_pixels=False: headers only after preparation; each slice read back equals the
    dataset prepared with its pixels, and a zip's extracted files live in the caller's folder."""
    series = S.make_ct_series(5)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i, ds in enumerate(series):
            zf.writestr(f"SE1/IM{i:04d}.dcm", S.to_bytes(ds))
    upload = tmp_path / "upload.zip"
    upload.write_bytes(buf.getvalue())
    whole = prepare_upload(upload, pseudonym_for=Pseudonyms(), secret=SECRET)
    with pytest.raises(ValueError, match="workdir"):
        prepare_upload(
            upload,
            pseudonym_for=Pseudonyms(),
            secret=SECRET,
            options=IngestOptions(keep_pixels=False),
        )
    work = tmp_path / "work"
    work.mkdir()
    lean = prepare_upload(
        upload,
        pseudonym_for=Pseudonyms(),
        secret=SECRET,
        options=IngestOptions(keep_pixels=False, decode_volume=False),
        workdir=work,
    )
    assert lean.ok
    assert all("PixelData" not in ds for ds in lean.primary.datasets)
    assert any(work.rglob("*")), "the extracted files stay in the caller's folder"
    for k, expected in enumerate(whole.primary.datasets):
        again = lean.primary.full_dataset(k)
        assert again.SOPInstanceUID == expected.SOPInstanceUID
        assert again.PixelData == expected.PixelData
        assert again.PatientID == expected.PatientID


def test_pass_one_keeps_a_slim_record_per_file_not_its_dataset(tmp_path):
    """Pass 1 keeps only what series assembly reads of each header (the 1 GB upload's peak)."""
    from readerstudy.cases.dicom import ingest as ingest_mod
    from readerstudy.cases.dicom.series import SliceHeader

    study = generate_uid()
    thick = S.make_ct_series(6, spacing=5.0, study_uid=study)
    thin = S.make_ct_series(12, spacing=1.0, study_uid=study)
    files = _write(thick, tmp_path / "SE1") + _write(thin, tmp_path / "SE2")
    opts = IngestOptions()
    deid = ingest_mod._deidentifier(SECRET, opts)
    to_read = [ingest_mod._File(p.name, p) for p in files]
    headers = ingest_mod._read_headers(to_read, deid, lambda key: "CASE", lambda *a: None, [])
    assert len(headers.records) == 18
    assert all(type(rec) is SliceHeader for _, rec in headers.records)
    assert not hasattr(headers, "datasets")
    assert not any(isinstance(rec, pydicom.Dataset) for _, rec in headers.records)

    res = prepare_upload(tmp_path, pseudonym_for=Pseudonyms(), secret=SECRET)
    assert res.ok, res.fatal_errors
    assert res.primary.info.n_slices == 6
    # no series found in pass 1 holds a dataset; only the series read in pass 2 does
    assert all(s.datasets == [] for s in res.series)
    assert len(res.primary.datasets) == 6
    thin_info = next(s for s in res.series if s.n_slices == 12)
    assert thin_info.ok and thin_info.slice_spacing == pytest.approx(1.0)
    assert thin_info.series_uid != str(thin[0].SeriesInstanceUID)  # de-identified
