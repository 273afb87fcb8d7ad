"""Radiomic features of annotator masks in the ICC's long format, then the ICC itself."""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
import SimpleITK as sitk
from django.core.management import CommandError, call_command

from readerstudy.cases.annotator_features import feature_rows
from readerstudy.cases.annotator_masks import import_manifest
from readerstudy.cases.annotator_selectors import annotator_masks

from .annotator_fixtures import manifest, mirrored, phantom_mask, series_image, write_mask

HEADER = "case,annotator,session,date,path"

pytestmark = pytest.mark.django_db
PARAMS = """imageType:
  Original: {}
featureClass:
  firstorder: [Mean, Median, Energy, Maximum]
setting:
  binWidth: 25
  label: 1
"""


@pytest.fixture
def rated(phantom_dir):
    """Per case: A/1 the phantom's mask, A/2 the same again, B/1 the other hemisphere."""
    from .annotator_fixtures import import_cases

    out, records = phantom_dir
    cases = import_cases(out, records)
    rows = []
    for case, record in zip(cases, records, strict=True):
        mask = phantom_mask(out, record["case_id"])
        write_mask(out / f"{case.code}_a.nii.gz", mask, case)
        write_mask(out / f"{case.code}_b.nii.gz", mirrored(mask), case)
        rows += [
            f"{case.code},A,1,2024-01-10,{case.code}_a.nii.gz",
            f"{case.code},A,2,2024-03-10,{case.code}_a.nii.gz",
            f"{case.code},B,1,2024-01-11,{case.code}_b.nii.gz",
        ]
    import_manifest(manifest(out, rows, HEADER))
    return out, records, cases


def _numpy_features(image, mask, spacing):
    """Two features without PyRadiomics: the ROI's voxel count and mean HU."""
    hu = sitk.GetArrayFromImage(image)[sitk.GetArrayFromImage(mask) > 0]
    return {"voxels": float(hu.size), "mean_hu": float(hu.mean())}


def test_feature_rows_give_one_row_per_mask_and_feature(rated):
    out, records, cases = rated
    rows = list(feature_rows(annotator_masks().select_related("series"), _numpy_features))
    assert len(rows) == 2 * 3 * 2
    assert set(rows[0]) == {"case", "rater", "session", "feature", "value"}
    hu = sitk.GetArrayFromImage(series_image(cases[0]))
    mask = phantom_mask(out, records[0]["case_id"])
    mean = next(
        r
        for r in rows
        if (r["case"], r["rater"], r["session"], r["feature"]) == (cases[0].code, "A", 1, "mean_hu")
    )
    assert float(mean["value"]) == pytest.approx(float(hu[mask > 0].mean()))


def test_exported_radiomics_feed_the_icc_and_unreliable_features_are_flagged(rated, tmp_path):
    _, _, cases = rated
    params = tmp_path / "params.yaml"
    params.write_text(PARAMS)
    features = tmp_path / "FEATURES.csv"
    call_command("export_annotator_features", "--out", str(features), "--params", str(params))
    rows = list(csv.DictReader(features.open()))
    names = {r["feature"] for r in rows}
    assert names == {f"original_firstorder_{n}" for n in ("Mean", "Median", "Energy", "Maximum")}
    assert len(rows) == 2 * 3 * 4 and {r["rater"] for r in rows} == {"A", "B"}
    by_key = {(r["case"], r["rater"], r["session"], r["feature"]): float(r["value"]) for r in rows}
    code = cases[0].code
    assert (
        by_key[(code, "A", "1", "original_firstorder_Mean")]
        == by_key[(code, "A", "2", "original_firstorder_Mean")]
    )

    def icc(*extra):
        report = tmp_path / ("icc" + "".join(extra))
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "readerstudy.analysis",
                "icc",
                "--features",
                str(features),
                "--out",
                str(report),
                *extra,
            ],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        return json.loads((report / "report.json").read_text())

    both = icc()
    mean = both["icc"]["original_firstorder_Mean"]
    # B drew the other hemisphere: no agreement with A on the ROI's intensity
    assert mean["above_threshold"] is False and mean["icc2_1"] < 0.8
    assert "original_firstorder_Mean" not in both["summary"]["features_above_threshold"]
    repeat = icc("--raters", "A")  # A's two sessions drew the same voxels: perfect
    assert repeat["icc"]["original_firstorder_Mean"]["icc2_1"] == pytest.approx(1.0)
    assert repeat["icc"]["original_firstorder_Mean"]["above_threshold"] is True
    assert np.isfinite(mean["icc3_1"])


def test_nothing_to_export_is_an_error(tmp_path, db):
    with pytest.raises(CommandError, match="no annotator masks"):
        call_command("export_annotator_features", "--out", str(tmp_path / "f.csv"))
    with pytest.raises(CommandError, match="no such parameter file"):
        call_command(
            "export_annotator_features", "--out", str(tmp_path / "f.csv"), "--params", "nope.yaml"
        )
