import pydicom
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from readerstudy.cases.dicom import UIDRemapper
from readerstudy.cases.errors import LabelError
from readerstudy.cases.labels import find_case
from readerstudy.cases.models import Case, GroundTruth
from readerstudy.cases.secrets import deid_secret
from readerstudy.cases.slice_labels import import_slice_labels

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(phantom_dir):
    out, records = phantom_dir
    call_command("import_cases", str(out), "--no-progress")
    return out, records


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n")
    return path


def _original_sop_uid(folder, z_order_index):
    """The original SOPInstanceUID of the slice at a position (phantom files are in z order)."""
    files = sorted(folder.glob("*.dcm"))
    datasets = [pydicom.dcmread(f, stop_before_pixels=True) for f in files]
    datasets.sort(key=lambda d: float(d.ImagePositionPatient[2]))
    return datasets[z_order_index].SOPInstanceUID


def test_slice_labels_by_position_or_original_uid(imported, tmp_path):
    out, records = imported
    study_uid = records[1]["study_instance_uid"]
    by_uid = find_case(
        {"study_instance_uid": study_uid},
        UIDRemapper(deid_secret(), settings.READERSTUDY_UID_PREFIX),
    )
    first = Case.objects.exclude(pk=by_uid.pk).get()
    sop = _original_sop_uid(out / records[1]["case_id"], 3)
    csv_path = _write(
        tmp_path / "slices.csv",
        [
            "case_code,study_instance_uid,slice,sop_instance_uid,iph,ivh",
            f"{first.code},,0,,0,0",
            f"{first.code},,5,,1,0",
            f",{study_uid},,{sop},1,1",
        ],
    )
    assert import_slice_labels(csv_path) == 2
    truth = GroundTruth.objects.get(case=first)
    assert truth.slice_labels == {"labels": ["iph", "ivh"], "slices": {"0": [], "5": ["iph"]}}
    other = GroundTruth.objects.get(case=by_uid)
    assert other.slice_labels["slices"] == {"3": ["iph", "ivh"]}
    assert study_uid not in str(other.slice_labels) and sop not in str(other.slice_labels)


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("{code},,99,,1", "slice 99 is outside the series"),
        ("{code},,x,,1", "'slice' must be a 0-based slice position"),
        ("{code},,1,,2", "must hold 0 or 1"),
        ("NOPE,,1,,1", "no imported case matches"),
        ("{code},,,1.2.3.4,1", "not a slice of the case's primary series"),
        ("{code},,1,,1\n{code},,1,,0", "is labelled twice"),
    ],
)
def test_bad_rows_are_named_and_nothing_is_stored(imported, tmp_path, row, problem):
    code = Case.objects.order_by("pk").first().code
    good = f"{code},,2,,1"
    csv_path = _write(
        tmp_path / "slices.csv",
        ["case_code,study_instance_uid,slice,sop_instance_uid,any", good, row.format(code=code)],
    )
    with pytest.raises(LabelError, match=problem):
        import_slice_labels(csv_path)
    assert not GroundTruth.objects.exclude(slice_labels={}).exists()


def test_import_command_takes_slice_labels_and_reports_errors(imported, tmp_path):
    out, _ = imported
    code = Case.objects.order_by("pk").first().code
    good = _write(tmp_path / "ok.csv", ["case_code,slice,any", f"{code},1,1"])
    call_command("import_cases", str(out), "--no-progress", "--slice-labels", str(good))
    assert GroundTruth.objects.get(case__code=code).slice_labels["slices"] == {"1": ["any"]}
    bad = _write(tmp_path / "bad.csv", ["case_code,any", f"{code},1"])
    with pytest.raises(
        CommandError, match="needs 'case_code' or 'study_instance_uid', and 'slice'"
    ):
        call_command("import_cases", str(out), "--no-progress", "--slice-labels", str(bad))
