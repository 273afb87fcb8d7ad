"""FROC analysis against published results on RJafroc's example data.

* FED (Zanca et al.; RJafroc's ``dataset04``, 5 modalities x 4 readers x 200 cases) as its
  highest-rating inferred ROC (``FED.lrc`` shipped with RJafroc, transcribed to
  ``data/froc/FED_inferred_roc.csv``): entered as an FROC data file (each case's highest rating
  as its one mark) and analysed with the ``HrAuc`` FOM, OR and DBM, against OR-DBM MRMC 2.51's
  printed output and the RJafroc Book.

The wAFROC comparison on ``dataset04`` itself needs RJafroc's binary data files, which are not
available as text here; ``data/froc/README.md`` says how to run it by hand.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

from readerstudy.analysis.froc import froc_analysis
from readerstudy.analysis.froc_io import (
    FrocDataset,
    MarkRecord,
    TruthRecord,
    read_froc_xlsx,
    records_to_xlsx,
)

from .refdata import DATA, assert_printed

FROC = DATA / "froc"
PUB: dict[str, Any] = json.loads((FROC / "published_values.json").read_text())


def near(value: float, text: str, what: str = "") -> None:
    """Within one unit of the last printed decimal (OR-DBM's own t quantiles differ from
    scipy's in the tenth digit, which can flip a rounding of the CI limits)."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    assert abs(value - float(text)) <= 10.0**-decimals, f"{what}: {value!r} vs printed {text}"


def fed_as_froc() -> FrocDataset:
    """FED.lrc as an RJafroc-layout FROC workbook: a rating > 0 is a mark (an NL mark on a
    non-diseased case, the lesion's LL mark on a diseased case); 0 = no mark."""
    d = pd.read_csv(FROC / "FED_inferred_roc.csv", dtype={"case": str, "reader": str})
    cases = d.drop_duplicates("case")
    truth = [
        TruthRecord(c, int(t), float(t)) for c, t in zip(cases["case"], cases["truth"], strict=True)
    ]
    marks = [
        MarkRecord(row["reader"], str(m), row["case"], float(row[f"m{m}"]), int(row["truth"]))
        for row in d.to_dict(orient="records")
        for m in range(1, 6)
        if row[f"m{m}"] > 0
    ]
    xlsx = records_to_xlsx(truth, marks, ["1", "3", "4", "5"], ["1", "2", "3", "4", "5"])
    return read_froc_xlsx(xlsx)


@pytest.fixture(scope="module")
def fed() -> Any:
    return froc_analysis(fed_as_froc(), "HrAuc", "DBM")


def test_fed_shape() -> None:
    ds = fed_as_froc()
    assert (len(ds.modalities), len(ds.readers), ds.k1, ds.k2) == (5, 4, 100, 100)


def test_fed_hrauc_foms_and_mean_squares(fed: Any) -> None:
    ref = PUB["FED_HrAuc_OR-DBM-MRMC-2.51"]
    for i, m in enumerate(fed.data.modalities):
        for j in range(4):
            assert_printed(fed.data.theta[i, j], ref["auc"][m][j], f"AUC {m},{j}")
        assert_printed(fed.data.theta[i].mean(), ref["means"][i], f"mean {m}")
    c = fed.orr.components
    for key, val in (("T", c.ms_t), ("R", c.ms_r), ("TR", c.ms_tr)):
        assert_printed(val, ref["ms"][key], f"MS({key})")
    for i, text in enumerate(ref["ms_r_by_modality"]):
        assert_printed(c.ms_r_by_modality[i], text, f"MS(R) {i}")


def test_fed_hrauc_variance_components(fed: Any) -> None:
    ref = PUB["FED_HrAuc_OR-DBM-MRMC-2.51"]
    vc = fed.var_components()
    for key, text in ref["or_components"].items():
        assert_printed(vc[key], text, key)
    for key, text in ref["dbm_components"].items():
        assert_printed(fed.dbm.var_components[key], text, f"DBM {key}")


def test_fed_hrauc_or_rrrc(fed: Any) -> None:
    ref = PUB["FED_HrAuc_OR-DBM-MRMC-2.51"]
    out = fed.to_dict()["or_rrrc"]
    for key in ("F", "ddf", "p", "error_term"):
        assert_printed(out[key], ref["rrrc"][key], key)
    assert out["df1"] == 4
    for row, (label, est, t, p, lo, hi) in zip(out["diffs"], ref["rrrc_diffs"], strict=True):
        assert row["contrast"] == label
        assert_printed(row["estimate"], est, label)
        assert_printed(row["se"], ref["rrrc"]["se_diff"], label)
        assert_printed(row["stat"], t, label)
        assert_printed(row["p"], p, label)
        assert_printed(row["ci_low"], lo, label)
        assert_printed(row["ci_high"], hi, label)
    single = fed.orr.rrrc["single"]
    for i, (se, df, lo, hi, cov2) in enumerate(ref["rrrc_single"]):
        r = single.iloc[i]
        for val, text in ((r.se, se), (r.df, df), (r.cov2, cov2)):
            assert_printed(val, text, f"single {i}")
        near(r.ci_low, lo, f"single {i}")
        near(r.ci_high, hi, f"single {i}")


def test_fed_hrauc_or_frrc(fed: Any) -> None:
    ref = PUB["FED_HrAuc_OR-DBM-MRMC-2.51"]
    out = fed.to_dict()["or_frrc"]
    assert_printed(out["X2"], ref["frrc"]["X2"], "X2")
    assert_printed(out["F"] * 4, ref["frrc"]["X2"], "F = X2 / (I - 1)")
    assert out["ddf"] is None and out["df1"] == 4
    assert_printed(out["p"], ref["frrc"]["p"], "p")
    for row, (lo, hi) in zip(out["diffs"], ref["frrc_diffs_ci"], strict=True):
        assert_printed(row["se"], ref["frrc"]["se_diff"], "se")
        assert row["df"] is None
        assert_printed(row["ci_low"], lo, row["contrast"])
        assert_printed(row["ci_high"], hi, row["contrast"])
    single = fed.orr.frrc["single"]
    for i, (se, lo, hi) in enumerate(ref["frrc_single"]):
        r = single.iloc[i]
        for val, text in ((r.se, se), (r.ci_low, lo), (r.ci_high, hi)):
            assert_printed(val, text, f"single {i}")
    per = fed.orr.frrc["per_reader"]
    for reader, se in ref["frrc_per_reader_se"].items():
        assert_printed(per[per["reader"] == reader]["se"].iloc[0], se, f"reader {reader}")


def test_fed_hrauc_or_rrfc_rjafroc_book(fed: Any) -> None:
    ref = PUB["FED_HrAuc_RJafroc_book_RRFC"]
    out = fed.to_dict()["or_rrfc"]
    assert_printed(out["F"], ref["F"], "F")
    assert out["ddf"] == 12
    assert_printed(out["p"], ref["p"], "p")
    assert_printed(fed.orr.components.ms_tr, ref["ms_tr"], "MS(TR)")
    for row in out["diffs"]:
        assert_printed(row["se"], ref["se_diff"], row["contrast"])
    for i, se in enumerate(ref["single_se"]):
        assert_printed(fed.orr.rrfc["single"].iloc[i]["se"], se, f"single {i}")


def test_fed_hrauc_dbm_equals_or_and_frrc_df(fed: Any) -> None:
    d, o = fed.to_dict(), fed.to_dict()
    assert d["dbm_rrrc"]["F"] == pytest.approx(o["or_rrrc"]["F"], rel=1e-10)
    assert d["dbm_rrrc"]["ddf"] == pytest.approx(o["or_rrrc"]["ddf"], rel=1e-10)
    # DBM fixed readers: F = MS(T) / MS(TC) on (I - 1, (I - 1)(K - 1)) df, as RJafroc prints
    assert d["dbm_frrc"]["ddf"] == 4 * 199
    assert d["dbm_rrfc"]["F"] == pytest.approx(o["or_rrfc"]["F"], rel=1e-10)
