"""``cvt_hematoma_dlrn`` end to end: predict with a mask and with the segmenter's ROI, the
result.json schema, covariate and ROI errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from inference.cli import main


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory):
    from phantoms.dicom_io import write_case
    from phantoms.hematoma import make_hematoma_case

    hc = make_hematoma_case(31337, "cvt_related", matrix=128, case_id="HMTEST")
    out = tmp_path_factory.mktemp("dlrn")
    rec = write_case(hc.case, out)
    (out / "covariates.json").write_text(json.dumps(hc.covariates))
    return out, rec, hc


@pytest.fixture(scope="module")
def model():
    from inference.registry import get_model

    m = get_model("cvt_hematoma_dlrn")
    m.load()
    return m


def test_predict_cli_with_mask_writes_the_fixed_schema(case_dir, tmp_path, model):
    out, rec, hc = case_dir
    args = ["predict", "--model", "cvt_hematoma_dlrn", "--input", rec["path"], "--out"]
    args += [str(tmp_path / "o"), "--mask", rec["mask_path"]]
    args += ["--covariates", str(out / "covariates.json"), "--device", "cpu"]
    assert main(args) == 0
    r = json.loads((tmp_path / "o" / "result.json").read_text())
    p = r["probabilities"]["cvt_related"]
    assert set(r["probabilities"]) == {"cvt_related"} and 0 <= p <= 1
    assert set(r["signatures"]) == {"rad", "dl", "dlr", "dlrn"} and r["signatures"]["dlrn"] == p
    assert all(0 <= v <= 1 for v in r["signatures"].values())
    variables = ["dlr_signature", *model.covariates]
    assert list(r["nomogram"]["points"]) == variables
    assert r["nomogram"]["total_points"] == pytest.approx(sum(r["nomogram"]["points"].values()))
    assert r["total_points"] == r["nomogram"]["total_points"]
    assert r["nomogram"]["values"]["dlr_signature"] == r["signatures"]["dlr"]
    assert [a["name"] for a in r["nomogram_axes"]["variables"]] == variables
    names = model.model_data()["signatures"]["dlr"]["selection"]["names"]
    assert sorted(f["name"] for f in r["features"]) == sorted(names)
    assert all({"name", "kind", "value", "z", "importance"} <= set(f) for f in r["features"])
    imps = [f["importance"] for f in r["features"]]
    assert imps == sorted(imps, reverse=True) and sum(imps) == pytest.approx(1.0)
    prov = r["provenance"]
    assert prov["roi_source"] == "mask" and prov["radiomics_features"] == 851
    assert "segmenter" not in prov["roi"]
    assert {"roi_resample", "radiomics", "deep", "model"} <= set(prov["timings_s"])
    assert r["decisions"]["youden"]["cvt_related"] == int(p >= r["thresholds"]["youden"])
    # what the worker stores (readerstudy.ai.interpretation) accepts this result as it is
    from readerstudy.ai.interpretation import interpretation_of

    stored = interpretation_of(r)
    assert stored["nomogram"]["points"] == r["nomogram"]["points"]
    assert len(stored["nomogram"]["axes"]) == len(variables)


def test_predict_without_mask_uses_the_segmenter(case_dir, model):
    _, _, hc = case_dir
    pred = model.predict(
        hc.case.to_sitk(), options={"covariates": hc.covariates, "threads": 2, "device": "cpu"}
    )
    assert pred.provenance["roi_source"] == "segmenter" and pred.roi == {"source": "segmenter"}
    assert pred.provenance["roi"]["largest_slice_area_mm2"] > 0
    seg = pred.provenance["roi"]["segmenter"]
    assert set(seg) == {"components_found", "components_kept", "voxels_dropped"}
    assert seg["components_found"] >= seg["components_kept"] >= 1 and seg["voxels_dropped"] >= 0
    assert pred.provenance["radiomics_features"] == 851
    assert set(pred.outputs["signatures"]) == {"rad", "dl", "dlr", "dlrn"}
    assert pred.probabilities["cvt_related"] == pred.outputs["signatures"]["dlrn"]


def test_missing_or_bad_covariates_are_named(case_dir, tmp_path, capsys, model):
    out, rec, hc = case_dir
    base = ["predict", "--model", "cvt_hematoma_dlrn", "--input", rec["path"], "--mask"]
    base += [rec["mask_path"], "--out", str(tmp_path / "x"), "--device", "cpu"]
    assert main(base) == 2
    err = capsys.readouterr().err
    assert "needs the clinical covariate(s)" in err
    assert all(name in err for name in model.covariates)
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    assert main([*base, "--covariates", str(bad)]) == 2
    assert "must hold a JSON object" in capsys.readouterr().err
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({**hc.covariates, model.covariates[0]: "yes"}))
    assert main([*base, "--covariates", str(wrong)]) == 2
    assert f"covariate {model.covariates[0]!r} must be a finite number" in capsys.readouterr().err
    assert not (tmp_path / "x" / "result.json").exists()


def test_unusable_roi_masks_are_refused(case_dir, model):
    from inference.zoo.dlrn.radiomics_features import RoiError

    _, _, hc = case_dir
    img = hc.case.to_sitk()
    with pytest.raises(RoiError, match="empty"):
        model.predict(
            img, options={"covariates": hc.covariates, "roi_mask": np.zeros_like(hc.case.mask)}
        )
    with pytest.raises(ValueError, match="roi_mask shape"):
        model.predict(img, options={"covariates": hc.covariates, "roi_mask": np.ones((2, 2, 2))})
