"""Hematoma masks from binary DICOM SEG, through the label CSV and the import_seg command."""

import copy
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from django.conf import settings
from django.core.management import CommandError, call_command
from pydicom.sr.coding import Code

from readerstudy.cases.errors import LabelError
from readerstudy.cases.ingest import import_study
from readerstudy.cases.labels import import_labels
from readerstudy.cases.models import GroundTruth, HematomaMask
from tests.cases.conftest import storage_files

pytestmark = pytest.mark.django_db
MEDIA = Path(settings.STORAGES["default"]["OPTIONS"]["location"])


def _sorted_datasets(folder: Path) -> list[pydicom.Dataset]:
    datasets = [pydicom.dcmread(p) for p in sorted(folder.glob("*.dcm"))]
    iop = np.array([float(v) for v in datasets[0].ImageOrientationPatient])
    normal = np.cross(iop[:3], iop[3:])
    return sorted(
        datasets, key=lambda d: np.array([float(v) for v in d.ImagePositionPatient]) @ normal
    )


def _phantom_mask(out: Path, case_id: str) -> np.ndarray:
    return (sitk.GetArrayFromImage(sitk.ReadImage(str(out / f"{case_id}_mask.nii.gz"))) > 0).astype(
        np.uint8
    )


def _segment(number: int, label: str) -> hd.seg.SegmentDescription:
    return hd.seg.SegmentDescription(
        segment_number=number,
        segment_label=label,
        segmented_property_category=Code("49755003", "SCT", "Morphologically Altered Structure"),
        segmented_property_type=Code("50960005", "SCT", "Hemorrhage"),
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
    )


def make_seg(
    datasets: list[pydicom.Dataset], mask: np.ndarray, *, extra_segment=None, fractional=False
) -> pydicom.Dataset:
    """A SEG as a hospital would send it: original UIDs, patient header, empty frames left out."""
    pixels = mask.astype(np.uint8)
    descriptions = [_segment(1, "Hematoma")]
    if extra_segment is not None:
        pixels = np.stack([pixels, extra_segment.astype(np.uint8)], axis=-1)
        descriptions.append(_segment(2, "Edema"))
    kind = hd.seg.SegmentationTypeValues
    seg = hd.seg.Segmentation(
        source_images=datasets,
        pixel_array=pixels.astype(np.float32) if fractional else pixels,
        segmentation_type=kind.FRACTIONAL if fractional else kind.BINARY,
        segment_descriptions=descriptions,
        series_instance_uid=hd.UID(),
        series_number=300,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer="Hospital",
        manufacturer_model_name="Annotator",
        software_versions="1",
        device_serial_number="1",
        omit_empty_frames=True,
    )
    return seg


def _write(ds: pydicom.Dataset, path: Path) -> Path:
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.fixture
def imported(phantom_dir):
    out, records = phantom_dir
    cases = [import_study(out / r["case_id"]).case for r in records]
    return out, records, cases


def _csv(out: Path, rows: list[str], header="case_code,label,mask,mask_segment") -> Path:
    path = out / "seg_labels.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def _stored_mask(case) -> np.ndarray:
    stored = HematomaMask.objects.get(case=case)
    return sitk.GetArrayFromImage(sitk.ReadImage(str(MEDIA / stored.file)))


def test_seg_with_original_uids_becomes_the_cases_mask_and_is_not_kept(imported):
    out, records, cases = imported
    datasets = _sorted_datasets(out / records[0]["case_id"])
    mask = _phantom_mask(out, records[0]["case_id"])
    seg = make_seg(datasets, mask)
    assert seg.PatientName == datasets[0].PatientName  # it carries the patient's header
    seg_path = _write(seg, out / "hematoma_seg.dcm")
    seg_bytes = seg_path.read_bytes()
    before = storage_files(MEDIA)

    assert import_labels(_csv(out, [f"{cases[0].code},cvst_ich,hematoma_seg.dcm,"])) == 1

    stored = cases[0].hematoma_mask
    assert stored.series == cases[0].primary_series
    assert stored.voxels == int(mask.sum()) > 0
    assert stored.file.endswith(".nii.gz")
    np.testing.assert_array_equal(_stored_mask(cases[0]), mask)
    reference = sitk.ReadImage(str(MEDIA / cases[0].primary_series.volume))
    image = sitk.ReadImage(str(MEDIA / stored.file))
    assert image.GetOrigin() == pytest.approx(reference.GetOrigin())
    assert image.GetSpacing() == pytest.approx(reference.GetSpacing())
    # only the mask (content-addressed: another test may have stored the same one): no SEG
    assert storage_files(MEDIA) - before <= {stored.file}
    content = (MEDIA / stored.file).read_bytes()
    assert content[128:132] != b"DICM" and str(datasets[0].PatientName).encode() not in content
    for name in storage_files(MEDIA):
        path = MEDIA / name
        assert path.stat().st_size != len(seg_bytes) or path.read_bytes() != seg_bytes
    assert GroundTruth.objects.get(case=cases[0]).etiology == "cvst_ich"


def test_seg_made_on_the_deidentified_images_is_accepted(imported):
    out, records, cases = imported
    series = cases[1].primary_series
    datasets = [pydicom.dcmread(MEDIA / i.file) for i in series.instances.order_by("position")]
    mask = np.zeros((len(datasets), series.rows, series.columns), np.uint8)
    mask[2:5, 40:60, 50:70] = 1
    _write(make_seg(datasets, mask), out / "deid_seg.dcm")
    import_labels(_csv(out, [f"{cases[1].code},sich,deid_seg.dcm,"]))
    np.testing.assert_array_equal(_stored_mask(cases[1]), mask)


def _refused(out, rows, *messages):
    with pytest.raises(LabelError) as caught:
        import_labels(_csv(out, rows))
    text = "\n".join(caught.value.errors)
    for message in messages:
        assert message in text, text
    return text


def test_every_problem_is_named_and_nothing_is_stored(imported):
    out, records, cases = imported
    first = _sorted_datasets(out / records[0]["case_id"])
    second = _sorted_datasets(out / records[1]["case_id"])
    mask = _phantom_mask(out, records[0]["case_id"])
    good = make_seg(first, mask)
    _write(good, out / "good.dcm")
    # the other case's series
    _write(make_seg(second, _phantom_mask(out, records[1]["case_id"])), out / "other.dcm")
    # a frame moved off the slice grid
    shifted = copy.deepcopy(good)
    item = shifted.PerFrameFunctionalGroupsSequence[0].PlanePositionSequence[0]
    item.ImagePositionPatient = [float(v) for v in item.ImagePositionPatient[:2]] + [
        float(item.ImagePositionPatient[2]) + 1.3
    ]
    _write(shifted, out / "shifted.dcm")
    # a frame whose source image is another slice than the one at its position
    swapped = copy.deepcopy(good)
    frames = swapped.PerFrameFunctionalGroupsSequence
    a = frames[0].DerivationImageSequence[0].SourceImageSequence[0]
    b = frames[1].DerivationImageSequence[0].SourceImageSequence[0]
    a.ReferencedSOPInstanceUID, b.ReferencedSOPInstanceUID = (
        b.ReferencedSOPInstanceUID,
        a.ReferencedSOPInstanceUID,
    )
    _write(swapped, out / "swapped.dcm")
    # another study
    foreign = copy.deepcopy(good)
    foreign.StudyInstanceUID = hd.UID()
    _write(foreign, out / "foreign.dcm")
    _write(make_seg(first, mask, fractional=True), out / "fractional.dcm")
    _write(first[0], out / "ct_slice.dcm")
    (out / "junk.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"junk")
    before = storage_files(MEDIA)

    code = cases[0].code
    text = _refused(
        out,
        [
            f"{code},cvst_ich,good.dcm,",  # fine on its own: must not be stored either
            f"{code},cvst_ich,other.dcm,",
            f"{code},cvst_ich,shifted.dcm,",
            f"{code},cvst_ich,swapped.dcm,",
            f"{code},cvst_ich,foreign.dcm,",
            f"{code},cvst_ich,fractional.dcm,",
            f"{code},cvst_ich,ct_slice.dcm,",
            f"{code},cvst_ich,junk.dcm,",
            f"{code},cvst_ich,good.dcm,x",
            f"{code},cvst_ich,,1",
        ],
        "row 3: mask 'other.dcm': the SEG belongs to another study",
        "row 4: mask 'shifted.dcm': frame 1 lies on no slice of the series",
        "row 5: mask 'swapped.dcm': frame 1 lies on slice",
        "but its source image is slice",
        "row 6: mask 'foreign.dcm': the SEG belongs to another study",
        "row 7: mask 'fractional.dcm': segmentation type is FRACTIONAL; only BINARY",
        "row 8: mask 'ct_slice.dcm': not a DICOM Segmentation",
        "row 9: mask 'junk.dcm': not a DICOM Segmentation (SOP class missing",
        "row 10: 'mask_segment' must be a segment number",
        "row 11: 'mask_segment' given without a 'mask'",
    )
    assert "row 2" not in text
    assert str(first[0].PatientName) not in text and first[0].SeriesInstanceUID not in text
    assert HematomaMask.objects.count() == 0 and GroundTruth.objects.count() == 0
    assert storage_files(MEDIA) == before


def test_seg_of_another_series_in_the_same_study_is_refused(imported):
    out, records, cases = imported
    datasets = _sorted_datasets(out / records[0]["case_id"])
    other_series = copy.deepcopy(make_seg(datasets, _phantom_mask(out, records[0]["case_id"])))
    other_series.ReferencedSeriesSequence[0].SeriesInstanceUID = hd.UID()
    _write(other_series, out / "elsewhere.dcm")
    _refused(
        out,
        [f"{cases[0].code},cvst_ich,elsewhere.dcm,"],
        "the SEG references 1 series, none of them the case's series",
    )


def test_several_segments_need_mask_segment(imported):
    out, records, cases = imported
    datasets = _sorted_datasets(out / records[0]["case_id"])
    mask = _phantom_mask(out, records[0]["case_id"])
    edema = np.zeros_like(mask)
    edema[3:6, 10:30, 10:30] = 1
    _write(make_seg(datasets, mask, extra_segment=edema), out / "two.dcm")
    code = cases[0].code
    _refused(out, [f"{code},cvst_ich,two.dcm,"], "holds 2 segments (numbers 1, 2)")
    _refused(out, [f"{code},cvst_ich,two.dcm,3"], "has no segment 3 (it has 1, 2)")
    import_labels(_csv(out, [f"{code},cvst_ich,two.dcm,2"]))
    np.testing.assert_array_equal(_stored_mask(cases[0]), edema)
    import_labels(_csv(out, [f"{code},cvst_ich,two.dcm,1"]))
    np.testing.assert_array_equal(_stored_mask(cases[0]), mask)


def test_import_seg_command(imported, capsys):
    out, records, cases = imported
    datasets = _sorted_datasets(out / records[0]["case_id"])
    mask = _phantom_mask(out, records[0]["case_id"])
    _write(make_seg(datasets, mask), out / "seg.dcm")
    other = _sorted_datasets(out / records[1]["case_id"])
    _write(make_seg(other, _phantom_mask(out, records[1]["case_id"])), out / "wrong.dcm")
    with pytest.raises(CommandError, match="another study"):
        call_command("import_seg", str(out / "wrong.dcm"), "--case", cases[0].code)
    assert HematomaMask.objects.count() == 0
    with pytest.raises(CommandError, match="no case"):
        call_command("import_seg", str(out / "seg.dcm"), "--case", "RS-NOPE")
    call_command("import_seg", str(out / "seg.dcm"), "--case", cases[0].code)
    assert f"{cases[0].code}: hematoma mask of {int(mask.sum())} voxels" in capsys.readouterr().out
    np.testing.assert_array_equal(_stored_mask(cases[0]), mask)
