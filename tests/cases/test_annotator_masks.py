"""Annotator masks: the manifest command, the checks shared with the truth mask, all-or-nothing."""

import datetime as dt

import numpy as np
import pytest
import SimpleITK as sitk
from django.core.management import CommandError, call_command

from readerstudy.audit.models import AuditEntry
from readerstudy.cases.annotator_masks import import_manifest
from readerstudy.cases.errors import AnnotatorMaskError
from readerstudy.cases.models import AnnotatorMask
from tests.cases.conftest import storage_files
from tests.cases.test_seg_masks import _sorted_datasets, _write, make_seg
from tests.factories import ReaderFactory

from .annotator_fixtures import MEDIA, manifest, phantom_mask, write_mask

pytestmark = pytest.mark.django_db
HEADER = "case,annotator,session,date,path"


def test_the_command_stores_every_mask_on_its_series_grid_and_audits_it(annotated, capsys):
    out, records, cases, rows = annotated
    call_command("import_annotator_masks", str(manifest(out, rows)))
    assert "6 annotator masks of 2 cases stored (0 replaced" in capsys.readouterr().out
    masks = list(AnnotatorMask.objects.filter(case=cases[0]))
    assert [(m.annotator, m.session) for m in masks] == [("A", 1), ("A", 2), ("B", 1)]
    assert AnnotatorMask.objects.count() == 6
    first = masks[0]
    truth = phantom_mask(out, records[0]["case_id"])
    stored = sitk.ReadImage(str(MEDIA / first.file))
    np.testing.assert_array_equal(sitk.GetArrayFromImage(stored), truth)
    assert first.series == cases[0].primary_series and first.voxels == int(truth.sum())
    series = first.series
    voxel_ml = series.pixel_spacing_row * series.pixel_spacing_col * series.slice_spacing / 1000
    assert first.volume_ml == pytest.approx(truth.sum() * voxel_ml)
    assert first.session_date == dt.date(2024, 1, 10) and first.source_format == "nifti"
    assert masks[1].voxels > masks[0].voxels > masks[2].voxels
    entry = AuditEntry.objects.get(kind="annotator_masks.import")
    assert entry.additional_data["masks"] == 6 and entry.additional_data["annotators"] == ["A", "B"]
    assert entry.additional_data["cases"] == sorted(c.code for c in cases)
    # the same case, annotator and session again replaces the earlier mask
    summary = import_manifest(manifest(out, rows[:1]))
    assert (summary.masks, summary.replaced) == (1, 1)
    assert AnnotatorMask.objects.count() == 6


def test_a_binary_seg_is_accepted_with_an_account_and_is_not_kept(annotated):
    out, records, cases, _ = annotated
    user = ReaderFactory(username="neuro1")
    mask = phantom_mask(out, records[0]["case_id"])
    seg_path = _write(make_seg(_sorted_datasets(out / records[0]["case_id"]), mask), out / "a.dcm")
    header = f"{HEADER},user,segment"
    import_manifest(manifest(out, [f"{cases[0].code},N1,1,2024-03-01,a.dcm,neuro1,1"], header))
    stored = AnnotatorMask.objects.get()
    assert stored.source_format == "seg" and stored.user == user
    np.testing.assert_array_equal(
        sitk.GetArrayFromImage(sitk.ReadImage(str(MEDIA / stored.file))), mask
    )
    assert seg_path.read_bytes() not in {(MEDIA / n).read_bytes() for n in storage_files(MEDIA)}


def test_every_problem_is_named_and_nothing_is_stored(annotated):
    out, records, cases, rows = annotated
    first, second = cases
    mask = phantom_mask(out, records[0]["case_id"])
    write_mask(out / "labels.nii.gz", mask * 2, first)  # a label map, not binary
    write_mask(out / "empty.nii.gz", np.zeros_like(mask), first)
    big = sitk.GetImageFromArray(np.zeros((3, 20, 20), np.uint8))
    sitk.WriteImage(big, str(out / "grid.nii.gz"))
    (out / "junk.nii.gz").write_bytes(b"not a nifti")
    before = (
        storage_files(MEDIA),
        AuditEntry.objects.filter(kind="annotator_masks.import").count(),
    )
    bad = [
        rows[0],  # fine on its own: must not be stored either
        f"{first.code},A,3,2024-01-01,{first.code}_a1.nii.gz",  # before sessions 1 and 2
        f"{first.code},C,1,2024-01-10,labels.nii.gz",
        f"{first.code},C,2,2024-01-11,empty.nii.gz",
        f"{first.code},D,1,2024-01-10,grid.nii.gz",
        f"{first.code},D,2,2024-01-10,junk.nii.gz",
        f"{first.code},E,1,2024-01-10,missing.nii.gz",
        f"RS-NOPE,A,1,2024-01-10,{first.code}_a1.nii.gz",
        f"{second.code},,1,2024-01-10,{first.code}_a1.nii.gz",
        f"{second.code},A,0,2024-01-10,{first.code}_a1.nii.gz",
        f"{second.code},A,1,10/01/2024,{first.code}_a1.nii.gz",
        f"{second.code},F,1,{dt.date.today() + dt.timedelta(days=2)},{first.code}_a1.nii.gz",
        rows[0],  # the same case, annotator and session twice
    ]
    with pytest.raises(AnnotatorMaskError) as caught:
        import_manifest(manifest(out, bad))
    text = "\n".join(caught.value.errors)
    for expected in (
        "row 4: mask 'labels.nii.gz': the mask is not binary (values 0, 2",
        "row 5: mask 'empty.nii.gz': the mask is empty",
        "row 6: mask 'grid.nii.gz': mask size (20, 20, 3) differs from the series",
        "row 7: mask 'junk.nii.gz'",
        "row 8: mask file 'missing.nii.gz' not found",
        "row 9: no case 'RS-NOPE' in the library",
        "row 10: 'annotator' is empty",
        "row 11: 'session' must be a whole number from 1 to 99, got '0'",
        "row 12: 'date' must be a date as YYYY-MM-DD, got '10/01/2024'",
        "row 13: 'date'",
    ):
        assert expected in text, text
    assert "lies in the future" in text
    assert AnnotatorMask.objects.count() == 0
    assert (
        storage_files(MEDIA),
        AuditEntry.objects.filter(kind="annotator_masks.import").count(),
    ) == before
    # the rows that are fine alone: a repeated row, and a session dated before an earlier one
    with pytest.raises(AnnotatorMaskError) as caught:
        import_manifest(manifest(out, [rows[0], rows[1], rows[0]]))
    assert "row 4: case" in caught.value.errors[0] and "is also in row 2" in caught.value.errors[0]
    later = f"{first.code},A,3,2024-01-01,{first.code}_a1.nii.gz"
    with pytest.raises(AnnotatorMaskError) as caught:
        import_manifest(manifest(out, [rows[0], rows[1], later]))
    assert caught.value.errors == [
        f"row 4: case {first.code}, annotator 'A': session 3 (2024-01-01) is dated before"
        " session 2 (2024-02-14)"
    ]
    assert AnnotatorMask.objects.count() == 0


def test_the_command_exits_2_listing_the_problems(annotated):
    out, _, cases, _ = annotated
    with pytest.raises(CommandError) as caught:
        call_command("import_annotator_masks", str(manifest(out, [], header="case,annotator")))
    assert caught.value.returncode == 2
    assert "lacks column(s) session, date, path" in str(caught.value)
    with pytest.raises(CommandError, match="'segment' applies to a DICOM SEG"):
        call_command(
            "import_annotator_masks",
            str(
                manifest(
                    out,
                    [f"{cases[0].code},A,1,2024-01-10,{cases[0].code}_a1.nii.gz,2"],
                    f"{HEADER},segment",
                )
            ),
        )
