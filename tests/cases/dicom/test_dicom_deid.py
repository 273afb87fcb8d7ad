"""De-identification: PHI planting, UIDs across processes, dates, quarantine, markers, pixels."""

import io
import json
import shutil
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    ImplicitVRLittleEndian,
    JPEGLSLossless,
    RLELossless,
)

from readerstudy.cases.dicom.deid import (
    Deidentifier,
    DeidOptions,
    check_quarantine,
    clean_descriptor,
    load_table,
)
from readerstudy.cases.dicom.dicomio import read_dicom
from readerstudy.cases.dicom.errors import ErrorCode, QuarantineError, safe_file_label

from . import dicom_synth as S

REPO = Path(__file__).resolve().parents[3]
SECRET = b"test-site-secret-0123456789abcdef"


def _roundtrip(ds: Dataset) -> Dataset:
    return pydicom.dcmread(io.BytesIO(S.to_bytes(ds)))


def _all_uids(ds: Dataset) -> set[str]:
    out = set()

    def cb(d, el):
        if el.VR == "UI" and el.value:
            vals = [el.value] if isinstance(el.value, str) else el.value
            out.update(str(v) for v in vals)

    ds.walk(cb)
    for el in ds.file_meta:
        if el.VR == "UI":
            out.add(str(el.value))
    return out


# ------------------------------------------------------------------------------------------
# PHI planting


def test_planted_phi_never_reaches_output_log_or_labels(deidentifier):
    rows = load_table()
    series = S.make_ct_series(2, shuffle_seed=None)
    markers = []
    originals = []
    for i, ds in enumerate(series):
        markers += S.plant_phi(ds, rows, salt=f"S{i}")
    for ds in series:
        originals.append(_roundtrip(ds))
    assert len(markers) > 400  # every text attribute of the table, twice, plus extras
    file_marker = "QZXFILENAMEPHI"
    for k, src in enumerate(originals):
        orig_uids = _all_uids(src) - {
            S.CT_IMAGE_STORAGE,
            "1.2.840.10008.1.2.1",
            PYDICOM_IMPLEMENTATION_UID,
        }
        orig_dates = {"20230115", "19600101"}
        label = safe_file_label(f"{file_marker}/DOE_JANE_{k}.dcm", SECRET)
        ds = pydicom.dcmread(io.BytesIO(S.to_bytes(src)))
        # planted values really are in the input bytes (the test can fail)
        raw_in = S.to_bytes(src)
        assert all(m.encode() in raw_in for m in markers if f"S{k}" in m)
        log = deidentifier.deidentify(ds, pseudonym="CASE-0007", label=label)
        blob = S.to_bytes(ds)
        log_text = json.dumps(log.as_dict()) + str(log)
        for m in markers:
            assert m.encode() not in blob, m
        for u in orig_uids:
            assert u.encode() not in blob, "uid"
        for d in orig_dates:
            assert d.encode() not in blob, "date"
        assert file_marker.encode() not in blob
        for m in [*markers, file_marker, "DOE_JANE"]:
            assert m not in log_text
            assert m not in label
        for u in orig_uids:
            assert u not in log_text
        # the log names what was done, by tag/keyword and action
        actions = {(p, k_, a) for p, k_, a in log.actions}
        assert ("(0008,0080)", "InstitutionName", "Z") in actions
        assert ("(0010,0010)", "PatientName", "pseudonym") in actions
        assert any(k_ == "private" and a == "X" for _, k_, a in actions)
        assert any(p.startswith("(0008,1140)[0].") for p, _, _ in actions)  # nested item
        out = pydicom.dcmread(io.BytesIO(blob))
        assert out.SeriesDescription == "CT HEAD AXIAL 5MM"  # cleaned, vocabulary kept
        assert out.PatientName == "CASE-0007"
        assert out.PatientID == "CASE-0007"


def test_phi_in_a_quarantined_file_does_not_reach_the_error(deidentifier):
    ds = S.make_ct_series(1)[0]
    ds.PatientName = "QZXQUARANTINE^PHI"
    ds.BurnedInAnnotation = "YES"
    label = safe_file_label("QZXQUARANTINE_PHI/IM0001.dcm", SECRET)
    with pytest.raises(QuarantineError) as ei:
        deidentifier.deidentify(ds, pseudonym="C", label=label)
    assert "QZXQUARANTINE" not in str(ei.value)
    assert "QZXQUARANTINE" not in json.dumps(ei.value.error.as_dict())
    assert ds.PatientName == "QZXQUARANTINE^PHI"  # untouched: quarantine happens first


# ------------------------------------------------------------------------------------------
# UIDs

_WORKER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import pydicom
    from readerstudy.cases.dicom.deid import Deidentifier, DeidOptions
    out = Path(sys.argv[1])
    d = Deidentifier(DeidOptions(secret=sys.argv[2].encode(), uid_prefix=sys.argv[3]))
    for p in sys.argv[4:]:
        ds = pydicom.dcmread(p)
        d.deidentify(ds, pseudonym="CASE-1")
        ds.save_as(out / Path(p).name, enforce_file_format=True)
    """
)


def test_uid_remap_is_deterministic_across_processes(tmp_path):
    series = S.make_ct_series(8, shuffle_seed=None)
    originals = {}
    for i, ds in enumerate(series):
        prev = series[i - 1]
        item = Dataset()
        item.ReferencedSOPClassUID = prev.SOPClassUID
        item.ReferencedSOPInstanceUID = prev.SOPInstanceUID
        ds.ReferencedImageSequence = Sequence([item])
        ds.SourceImageSequence = Sequence([item])
        originals[ds.SOPInstanceUID] = i
    src = tmp_path / "src"
    paths = S.write_series(series, src)
    out = tmp_path / "out"
    out.mkdir()
    prefix = "1.2.826.0.1.3680043.10.999."
    procs = [
        subprocess.run(
            [sys.executable, "-c", _WORKER, str(out), SECRET.decode(), prefix, *map(str, half)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        for half in (paths[::2], paths[1::2])
    ]
    for p in procs:
        assert p.returncode == 0, p.stderr
    res = [pydicom.dcmread(p) for p in sorted(out.iterdir())]
    assert len(res) == 8
    assert len({r.StudyInstanceUID for r in res}) == 1
    assert len({r.SeriesInstanceUID for r in res}) == 1
    assert len({r.FrameOfReferenceUID for r in res}) == 1
    assert res[0].StudyInstanceUID != series[0].StudyInstanceUID
    assert res[0].SeriesInstanceUID.startswith(prefix)
    assert len(res[0].SeriesInstanceUID) <= 64
    new_sops = [r.SOPInstanceUID for r in res]
    assert len(set(new_sops)) == 8
    assert not set(new_sops) & set(originals)
    for r in res:
        assert r.SOPClassUID == S.CT_IMAGE_STORAGE  # class UIDs untouched
        assert r.file_meta.MediaStorageSOPClassUID == S.CT_IMAGE_STORAGE
        assert r.file_meta.MediaStorageSOPInstanceUID == r.SOPInstanceUID
        assert r.file_meta.TransferSyntaxUID == series[0].file_meta.TransferSyntaxUID
    # references inside sequences point at the remapped instances
    by_index = {int(r.InstanceNumber) - 1: r for r in res}
    for i, r in by_index.items():
        ref = r.ReferencedImageSequence[0]
        assert ref.ReferencedSOPClassUID == S.CT_IMAGE_STORAGE
        assert ref.ReferencedSOPInstanceUID == by_index[(i - 1) % 8].SOPInstanceUID
        assert r.SourceImageSequence[0].ReferencedSOPInstanceUID == ref.ReferencedSOPInstanceUID
    # a different secret gives different UIDs (keyed)
    other = Deidentifier(DeidOptions(secret=b"another-secret-0123456789", uid_prefix=prefix))
    ds = pydicom.dcmread(paths[0])
    other.deidentify(ds, pseudonym="X")
    assert ds.SeriesInstanceUID != res[0].SeriesInstanceUID


def test_registered_and_class_uids_are_kept(deidentifier):
    ds = S.make_ct_series(1)[0]
    item = Dataset()
    item.CodeValue = "113100"
    item.CodingSchemeDesignator = "DCM"
    item.CodingSchemeUID = "1.2.840.10008.2.16.4"
    ds.AnatomicRegionSequence = Sequence([item])
    ds.add_new(0x00081150, "UI", "1.2.3.4.5.6.7.8.9.10")  # vendor private SOP class, by keyword
    ds = _roundtrip(ds)
    deidentifier.deidentify(ds, pseudonym="C")
    assert ds.AnatomicRegionSequence[0].CodingSchemeUID == "1.2.840.10008.2.16.4"
    assert ds.ReferencedSOPClassUID == "1.2.3.4.5.6.7.8.9.10"
    assert ds.SOPClassUID == S.CT_IMAGE_STORAGE


# ------------------------------------------------------------------------------------------
# Dates


def _d(s: str) -> date:
    return date(int(s[:4]), int(s[4:6]), int(s[6:8]))


def test_dates_shift_by_a_per_patient_offset(deidentifier):
    a1 = S.make_ct_series(1, patient_id="PAT-A", study_date="20230115")[0]
    a1.AcquisitionDate = "20230120"
    a1.InstanceCreationDate = "20230116"  # not in the table: shifted too (no real date left)
    a1.AcquisitionDateTime = "20230120101500.25+0100"
    a2 = S.make_ct_series(1, patient_id="PAT-A", study_date="20230301")[0]
    b1 = S.make_ct_series(1, patient_id="PAT-B", study_date="20230115")[0]
    b1.AcquisitionDate = "20230120"
    outs = []
    for ds in (a1, a2, b1):
        ds = _roundtrip(ds)
        deidentifier.deidentify(ds, pseudonym="C")
        outs.append(ds)
    oa1, oa2, ob1 = outs
    # same patient: intervals kept within and across studies
    assert (_d(oa1.AcquisitionDate) - _d(oa1.StudyDate)).days == 5
    assert (_d(oa1.InstanceCreationDate) - _d(oa1.StudyDate)).days == 1
    assert (_d(oa2.StudyDate) - _d(oa1.StudyDate)).days == (
        date(2023, 3, 1) - date(2023, 1, 15)
    ).days
    assert oa1.AcquisitionDateTime[:8] == oa1.AcquisitionDate
    assert oa1.AcquisitionDateTime[8:] == "101500.25"  # time kept, timezone dropped
    off_a = (_d(oa1.StudyDate) - date(2023, 1, 15)).days
    off_b = (_d(ob1.StudyDate) - date(2023, 1, 15)).days
    assert off_a != 0
    assert off_b != 0
    assert off_a != off_b
    assert -3650 <= off_a <= -1
    assert -3650 <= off_b <= -1
    assert (_d(ob1.AcquisitionDate) - _d(ob1.StudyDate)).days == 5
    assert oa1.StudyTime == "101500"  # TM kept
    assert oa1.PatientBirthDate == ""  # Z in the basic profile, no option column
    assert oa1.LongitudinalTemporalInformationModified == "MODIFIED"
    assert off_a == deidentifier.date_offset_days(a1)


def test_options_off_fall_back_to_the_basic_profile():
    d = Deidentifier(
        DeidOptions(
            secret=SECRET, retain_longitudinal_modified_dates=False, clean_descriptors=False
        )
    )
    ds = S.make_ct_series(1)[0]
    ds.SeriesDescription = "CT HEAD"
    ds = _roundtrip(ds)
    d.deidentify(ds, pseudonym="C")
    assert ds.StudyDate == ""
    assert "SeriesDate" not in ds  # X/D -> X
    assert "SeriesDescription" not in ds
    assert ds.LongitudinalTemporalInformationModified == "REMOVED"
    codes = [i.CodeValue for i in ds.DeidentificationMethodCodeSequence]
    assert codes == ["113100"]


# ------------------------------------------------------------------------------------------
# Markers, removals


def test_identity_removed_markers_and_structural_removals(deidentifier):
    ds = S.make_ct_series(1)[0]
    S.plant_phi(ds, load_table())
    ds.add_new(0x00290000, "UL", 4)
    ds.add_new(0x50000010, "US", 3)  # curve
    ds.add_new(0x00091000 | 0x10, "LO", "x")  # private without creator
    ds = _roundtrip(ds)
    deidentifier.deidentify(ds, pseudonym="C")
    assert ds.PatientIdentityRemoved == "YES"
    codes = {(i.CodeValue, i.CodingSchemeDesignator) for i in ds.DeidentificationMethodCodeSequence}
    assert codes == {("113100", "DCM"), ("113107", "DCM"), ("113105", "DCM")}
    assert "Basic Profile" in ds.DeidentificationMethod[0]
    assert all(len(v) <= 64 for v in ds.DeidentificationMethod)
    tags = [int(el.tag) for el in ds]
    assert not [t for t in tags if (t >> 16) & 1], "private tags left"
    assert not [
        t for t in tags if 0x5000 <= t >> 16 <= 0x60FF and (t >> 16) & 0xFF00 in (0x5000, 0x6000)
    ]
    assert ds.preamble == b"\x00" * 128
    assert set(ds.file_meta.keys()) <= {
        0x00020001,
        0x00020002,
        0x00020003,
        0x00020010,
        0x00020012,
        0x00020013,
    }


def test_clean_descriptor_keeps_only_vocabulary():
    assert clean_descriptor("CT Head WO contrast JOHN SMITH 1234567") == "CT HEAD WO CONTRAST"
    assert clean_descriptor("Brain 5mm H30s ax") == "BRAIN 5MM H30S AX"
    assert clean_descriptor("Mr Willis 12/03/1961") == ""
    assert clean_descriptor("AXIAL HEAD 0.625", "SH") == "AXIAL HEAD 0.625"
    assert len(clean_descriptor("CT HEAD AXIAL BRAIN ROUTINE", "SH")) <= 16


# ------------------------------------------------------------------------------------------
# Quarantine


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda d: setattr(d, "BurnedInAnnotation", "YES"), ErrorCode.BURNED_IN_ANNOTATION),
        (
            lambda d: setattr(d, "SOPClassUID", "1.2.840.10008.5.1.4.1.1.7"),
            ErrorCode.SECONDARY_CAPTURE,
        ),
        (lambda d: setattr(d, "ImageType", ["DERIVED", "SECONDARY"]), ErrorCode.SECONDARY_CAPTURE),
        (
            lambda d: setattr(d, "ImageType", ["ORIGINAL", "PRIMARY", "SCREEN SAVE"]),
            ErrorCode.SECONDARY_CAPTURE,
        ),
        (
            lambda d: setattr(d, "ImageType", ["ORIGINAL", "PRIMARY", "DOSE_INFO"]),
            ErrorCode.DOSE_REPORT,
        ),
        (
            lambda d: setattr(d, "SOPClassUID", "1.2.840.10008.5.1.4.1.1.88.67"),
            ErrorCode.DOSE_REPORT,
        ),
    ],
)
def test_quarantine_codes(mutate, code):
    ds = S.make_ct_series(1)[0]
    check_quarantine(ds, "IM0001.dcm")  # a plain CT slice passes
    mutate(ds)
    with pytest.raises(QuarantineError) as ei:
        check_quarantine(ds, "IM0001.dcm")
    assert ei.value.code == code
    assert ei.value.error.file == "IM0001.dcm"


# ------------------------------------------------------------------------------------------
# Writer


@pytest.mark.parametrize("syntax", ["explicit", "implicit", "rle", "jpegls"])
def test_deidentified_pixels_survive_writing(deidentifier, syntax):
    ds = S.make_ct_series(1, rows=32, cols=32)[0]
    S.plant_phi(ds, load_table())
    if syntax == "implicit":
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    elif syntax == "rle":
        ds.compress(RLELossless)
    elif syntax == "jpegls":
        ds.compress(JPEGLSLossless)
    src = S.to_bytes(ds)
    ds = read_dicom(src, label="IM1.dcm")
    deidentifier.deidentify(ds, pseudonym="C")
    out = pydicom.dcmread(io.BytesIO(S.to_bytes(ds)))
    assert out.PatientName == "C"
    assert (out.pixel_array == pydicom.dcmread(io.BytesIO(src)).pixel_array).all()


def test_dciodvfy_accepts_deidentified_output(tmp_path, deidentifier):
    exe = shutil.which("dciodvfy")
    if exe is None:
        pytest.skip("dciodvfy not installed (Debian package dicom3tools)")
    ds = S.make_ct_series(1, rows=32, cols=32)[0]
    ds.InstitutionName = "QZX HOSPITAL"
    ds.StationName = "QZXSTATION"
    ds.OperatorsName = "QZX^OPERATOR"
    ds.SeriesDescription = "CT HEAD QZX"
    ds.StudyDescription = "HEAD QZX"
    ds.ProtocolName = "ROUTINE HEAD"
    ds.InstanceCreationDate = "20230115"
    item = Dataset()
    item.ReferencedSOPClassUID = ds.SOPClassUID
    item.ReferencedSOPInstanceUID = ds.SOPInstanceUID
    ds.ReferencedImageSequence = Sequence([item])
    block = ds.private_block(0x0009, "ACME PRIVATE", create=True)
    block.add_new(0x10, "LO", "QZXPID")
    src = tmp_path / "orig.dcm"
    ds.save_as(src, enforce_file_format=True)
    ds = pydicom.dcmread(src)
    deidentifier.deidentify(ds, pseudonym="CASE0001")
    out = tmp_path / "deid.dcm"
    ds.save_as(out, enforce_file_format=True)
    res = subprocess.run([exe, str(out)], capture_output=True, text=True, timeout=60)
    report = res.stdout + res.stderr
    assert "CTImage" in report
    errors = [ln for ln in report.splitlines() if ln.startswith("Error")]
    assert errors == [], report
