"""Truth lesions: extracted from a case's hematoma mask, or imported from a lesions CSV."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from django.core.management import CommandError, call_command

from readerstudy.ai.outputs import save_mask
from readerstudy.cases.errors import LabelError
from readerstudy.cases.lesion_selectors import case_geometry, case_lesions
from readerstudy.cases.lesions import extract_mask_lesions, import_lesions_csv
from readerstudy.cases.models import HematomaMask, TruthLesion
from tests.factories import SeriesFactory

pytestmark = pytest.mark.django_db


def mask_image() -> sitk.Image:
    m = np.zeros((6, 16, 16), np.uint8)
    m[1:3, 2:6, 2:6] = 1  # 32 voxels
    m[4, 10:12, 10:12] = 1  # 4 voxels
    image = sitk.GetImageFromArray(m)
    image.SetSpacing((0.5, 0.5, 5.0))
    image.SetOrigin((-4.0, -4.0, 10.0))
    return image


def case_with_mask():
    case = SeriesFactory().case
    image = mask_image()
    HematomaMask.objects.create(
        case=case,
        series=case.primary_series,
        file=save_mask(sitk.GetArrayFromImage(image), image),
        voxels=36,
        volume_ml=0.045,
    )
    return case


def test_extract_components_with_centroids_and_weights() -> None:
    case = case_with_mask()
    rows = extract_mask_lesions(case)
    assert [(r.lesion_id, r.voxels, r.component) for r in rows] == [(1, 32, 1), (2, 4, 2)]
    first = TruthLesion.objects.get(case=case, lesion_id=1)
    # voxel centres x, y in 2..5 -> -4 + 3.5 * 0.5 = -2.25 mm; z in 1..2 -> 10 + 1.5 * 5 = 17.5
    assert (first.x_mm, first.y_mm, first.z_mm) == pytest.approx((-2.25, -2.25, 17.5))
    assert sum(r.weight for r in rows) == pytest.approx(1.0)
    assert [r.weight for r in rows] == [0.5, 0.5]
    by_volume = extract_mask_lesions(case, weighting="volume")
    assert [r.weight for r in by_volume] == pytest.approx([32 / 36, 4 / 36])
    assert TruthLesion.objects.filter(case=case).count() == 2  # replaced, not added
    lesions = case_lesions(case)
    geometry = case_geometry(case)
    assert geometry is not None and geometry.labels[1, 3, 3] == lesions[0].component
    big_only = extract_mask_lesions(case, min_voxels=5)
    assert len(big_only) == 1 and big_only[0].weight == 1.0


def test_extract_without_mask_refused() -> None:
    case = SeriesFactory().case
    with pytest.raises(ValueError, match="no hematoma mask"):
        extract_mask_lesions(case)
    with pytest.raises(ValueError, match="weighting"):
        extract_mask_lesions(case_with_mask(), weighting="area")


def write(tmp_path, text: str):
    p = tmp_path / "lesions.csv"
    p.write_text(text)
    return p


def test_csv_import_links_components_and_normalises_weights(tmp_path) -> None:
    case = case_with_mask()
    other = SeriesFactory().case
    csv = write(
        tmp_path,
        "case_code,lesion_id,x_mm,y_mm,z_mm,radius_mm,weight\n"
        f"{case.code},1,-2.25,-2.25,17.5,6,0.7\n"
        f"{case.code},2,100,100,0,,0.3\n"
        f"{other.code},1,1,2,3,,\n",
    )
    summary = import_lesions_csv(csv)
    assert (summary.cases, summary.lesions) == (2, 3)
    got = {(r.case_id, r.lesion_id): r for r in TruthLesion.objects.all()}
    assert got[(case.pk, 1)].component == 1 and got[(case.pk, 1)].radius_mm == 6
    assert got[(case.pk, 2)].component is None  # outside the mask
    assert got[(case.pk, 1)].weight == pytest.approx(0.7)
    assert got[(other.pk, 1)].weight == 1.0 and got[(other.pk, 1)].source == "csv"


def test_csv_errors_name_the_line_and_store_nothing(tmp_path) -> None:
    case = case_with_mask()
    extract_mask_lesions(case)
    before = list(TruthLesion.objects.values_list("pk", flat=True))
    csv = write(
        tmp_path,
        "case_code,lesion_id,x_mm,y_mm,z_mm,weight\n"
        f"{case.code},1,0,0,0,0.5\n"
        f"{case.code},1,0,0,0,0.2\n"
        f"{case.code},0,0,0,0,\n"
        f"{case.code},3,a,0,0,\n"
        "RS-NOPE,1,0,0,0,\n",
    )
    with pytest.raises(LabelError) as info:
        import_lesions_csv(csv)
    text = "; ".join(info.value.errors)
    assert "line 3: case" in text and "repeats line 2" in text
    assert "line 4: lesion_id 0" in text
    assert "line 5: x_mm 'a' is not a number" in text
    assert "line 6: no case with code 'RS-NOPE'" in text
    assert list(TruthLesion.objects.values_list("pk", flat=True)) == before


def test_csv_weights_not_summing_to_one_and_missing_columns(tmp_path) -> None:
    case = SeriesFactory().case
    bad = write(
        tmp_path,
        f"case_code,lesion_id,x_mm,y_mm,z_mm,weight\n{case.code},1,0,0,0,0.5\n{case.code},2,0,0,0,0.2\n",
    )
    with pytest.raises(LabelError, match="sum to 0.7"):
        import_lesions_csv(bad)
    with pytest.raises(LabelError, match="lacks column"):
        import_lesions_csv(write(tmp_path, "case_code,lesion_id,x_mm\n"))
    assert not TruthLesion.objects.exists()


def test_command(tmp_path) -> None:
    case = case_with_mask()
    call_command("import_lesions", "--from-masks", "--case", case.code, "--weighting", "volume")
    assert TruthLesion.objects.filter(case=case).count() == 2
    with pytest.raises(CommandError, match="either"):
        call_command("import_lesions")
    with pytest.raises(CommandError, match="no case"):
        call_command("import_lesions", "--from-masks", "--case", "RS-NONE")
