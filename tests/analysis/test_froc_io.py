"""RJafroc data file layout: reading (xlsx and CSV directory), writing, validation errors,
and the ``froc`` command line."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from openpyxl import Workbook

from readerstudy.analysis.cli import main
from readerstudy.analysis.froc_io import (
    FrocDataError,
    MarkRecord,
    TruthRecord,
    dataset_records,
    read_froc,
    read_froc_dir,
    read_froc_xlsx,
    records_to_csv_dir,
    records_to_xlsx,
)
from readerstudy.analysis.froc_simulate import simulate_froc

TRUTH = [
    ["CaseID", "LesionID", "Weight", "ReaderID", "ModalityID", "Paradigm"],
    [1, 0, 0, "0,1", "A,B", "FROC"],
    [2, 0, 0, "0,1", "A,B", "FCTRL"],
    [70, 1, 0.3, "0,1", "A,B", None],
    [70, 2, 0.7, "0,1", "A,B", None],
    [71, 1, 0, "0,1", "A,B", None],
    [72, 1, 0, "0,1", "A,B", None],
    [72, 2, 0, "0,1", "A,B", None],
]
NL = [["ReaderID", "ModalityID", "CaseID", "FP_Rating"], [0, "A", 1, 1.5], [1, "B", 70, 2]]
LL = [
    ["ReaderID", "ModalityID", "CaseID", "LesionID", "TP_Rating"],
    [0, "A", 70, 1, 5],
    [0, "A", 70, 2, 4],
    ["1", "B", "71", "1", "3"],
]


def workbook(sheets: dict[str, list[list[object]]]) -> bytes:
    wb = Workbook()
    first = True
    for name, rows in sheets.items():
        ws = wb.active if first else wb.create_sheet()
        assert ws is not None
        ws.title = name
        first = False
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def errors_of(sheets: dict[str, list[list[object]]]) -> list[str]:
    with pytest.raises(FrocDataError) as exc:
        read_froc_xlsx(workbook(sheets))
    return exc.value.errors


def test_reads_layout_any_order_and_case() -> None:
    ds = read_froc_xlsx(workbook({"ll": LL, "Truth": TRUTH, "fp": NL}))
    assert ds.paradigm == "FROC"
    assert ds.readers == ["0", "1"] and ds.modalities == ["A", "B"]
    assert ds.normal_cases == ["1", "2"] and ds.diseased_cases == ["70", "71", "72"]
    assert ds.lesion_ids == [[1, 2], [1], [1, 2]]
    assert ds.lesion_weights == [[0.3, 0.7], [1.0], [0.5, 0.5]]
    ll = ds.ll_array()
    assert ll[0, 0, 0].tolist() == [5.0, 4.0] and ll[1, 1, 1, 0] == 3.0
    top, count = ds.nl_arrays()
    assert top[0, 0, 0] == 1.5 and count[1, 1, 2] == 1 and np.isneginf(top[0, 1]).all()


def test_old_three_column_truth_and_rating_names() -> None:
    truth = [row[:3] for row in TRUTH]
    nl = [["ReaderID", "ModalityID", "CaseID", "NLRating", "note"], *[[*r, "x"] for r in NL[1:]]]
    ll = [["ReaderID", "ModalityID", "CaseID", "LesionID", "LLRating"], *LL[1:]]
    ds = read_froc_xlsx(workbook({"TRUTH": truth, "NL": nl, "LL": ll}))
    assert ds.paradigm == "FROC" and ds.readers == ["0", "1"] and ds.modalities == ["A", "B"]


def test_weights_rescaled_within_tolerance() -> None:
    truth = [*TRUTH[:3], [70, 1, 0.3, "0,1", "A,B"], [70, 2, 0.695, "0,1", "A,B"]]
    ds = read_froc_xlsx(workbook({"TRUTH": truth, "FP": NL[:2], "TP": LL[:3]}))
    assert sum(ds.lesion_weights[0]) == pytest.approx(1.0)
    assert ds.lesion_weights[0][0] == pytest.approx(0.3 / 0.995)


@pytest.mark.parametrize(
    ("sheets", "needle"),
    [
        ({"TRUTH": TRUTH, "FP": NL}, "missing sheet LL or TP"),
        (
            {
                "TRUTH": [*TRUTH[:3], [70, 1, 0.5, "0,1", "A,B"], [70, 2, 0.2, "0,1", "A,B"]],
                "FP": NL[:2],
                "TP": LL[:3],
            },
            "rows 4, 5, column Weight: the weights of CaseID 70 sum to 0.7",
        ),
        (
            {"TRUTH": TRUTH, "FP": NL, "TP": [*LL, [0, "A", 1, 1, 3]]},
            "row 5, column CaseID: case 1 is non-diseased",
        ),
        (
            {"TRUTH": TRUTH, "FP": [*NL, [9, "A", 1, 2]], "TP": LL},
            "sheet FP, row 4, column ReaderID: reader 9",
        ),
        ({"TRUTH": TRUTH, "FP": [*NL, [0, "C", 1, 2]], "TP": LL}, "column ModalityID: modality C"),
        (
            {"TRUTH": TRUTH, "FP": [*NL, [0, "A", 5, 2]], "TP": LL},
            "column CaseID: case 5 is not in sheet TRUTH",
        ),
        (
            {"TRUTH": TRUTH, "FP": [*NL, [0, "A", 1, "high"]], "TP": LL},
            "column FP_Rating: 'high' is not a finite number",
        ),
        ({"TRUTH": TRUTH, "FP": NL, "TP": [*LL, [0, "A", 70, 3, 3]]}, "case 70 has no lesion 3"),
        (
            {"TRUTH": TRUTH, "FP": NL, "TP": [*LL, [0, "A", 70, 1, 2]]},
            "lesion 1 of case 70 marked twice",
        ),
        (
            {"TRUTH": [*TRUTH, [1, 1, 1, "0,1", "A,B"]], "FP": NL, "TP": LL},
            "CaseID 1 has LesionID 0",
        ),
        ({"TRUTH": [*TRUTH, [73, 1, 1, "0", "A,B"]], "FP": NL, "TP": LL}, "only fully crossed"),
        (
            {"TRUTH": [*TRUTH, [73, "x", 1, "0,1", "A,B"]], "FP": NL, "TP": LL},
            "row 9, column LesionID",
        ),
        ({"TRUTH": [["Case", "LesionID", "Weight"]], "FP": NL, "TP": LL}, "missing column CaseID"),
    ],
)
def test_errors_name_sheet_row_column(sheets: dict[str, list[list[object]]], needle: str) -> None:
    errs = errors_of(sheets)
    assert any(needle in e for e in errs), errs


def test_roc_paradigm_and_split_plot_rejected() -> None:
    truth = [list(r) for r in TRUTH]
    truth[1][5] = "ROC"
    assert any(
        "'ROC' is not supported" in e for e in errors_of({"TRUTH": truth, "FP": NL, "TP": LL})
    )
    truth[1][5], truth[2][5] = "FROC", "SPLIT-PLOT-A"
    assert any("only FCTRL" in e for e in errors_of({"TRUTH": truth, "FP": NL, "TP": LL}))


def test_lroc_one_mark_per_case() -> None:
    truth = [list(r) for r in TRUTH if r[0] in ("CaseID", 1, 2, 71)]
    truth[1][5], truth[2][5] = "LROC", "FCTRL"
    nl = [NL[0], [0, "A", 1, 1], [0, "A", 71, 2]]
    ll = [LL[0], [0, "A", 71, 1, 3]]
    errs = errors_of({"TRUTH": truth, "FP": nl, "TP": ll})
    assert any("second mark for reader 0, modality A, case 71" in e for e in errs), errs
    ds = read_froc_xlsx(workbook({"TRUTH": truth, "FP": nl[:2], "TP": ll}))
    assert ds.paradigm == "LROC"


def test_ids_are_labels() -> None:
    ll = [LL[0], [0.0, "A", "70.0", 1.0, 5], ["0", "A", 70, "2", 4]]
    ds = read_froc_xlsx(workbook({"TRUTH": TRUTH, "NL": NL, "LL": ll}))
    assert ds.ll_array()[0, 0, 0].tolist() == [5.0, 4.0]


def test_round_trip_xlsx_and_csv_dir(tmp_path: Path) -> None:
    s = simulate_froc(3, 2, 6, 5, seed=4)
    ds = read_froc_xlsx(records_to_xlsx(s.truth, s.marks, s.readers, s.modalities))
    records_to_csv_dir(s.truth, s.marks, s.readers, s.modalities, tmp_path / "csv")
    assert sorted(p.name for p in (tmp_path / "csv").iterdir()) == ["LL.csv", "NL.csv", "TRUTH.csv"]
    ds2 = read_froc_dir(tmp_path / "csv")
    truth, marks = dataset_records(ds)
    ds3 = read_froc_xlsx(records_to_xlsx(truth, marks, ds.readers, ds.modalities))
    for other in (ds2, ds3):
        assert other.cases == ds.cases and other.lesion_ids == ds.lesion_ids
        np.testing.assert_array_equal(other.ll_array(), ds.ll_array())
        np.testing.assert_array_equal(other.nl_arrays()[1], ds.nl_arrays()[1])
        np.testing.assert_allclose(other.weight_matrix(), ds.weight_matrix())


def test_writer_accepts_mappings() -> None:
    truth = [{"case": "n1"}, {"case": "n2"}, {"case": "d1", "lesion": 1, "weight": 1}]
    marks = [{"reader": "r1", "modality": "m1", "case": "d1", "lesion": 1, "rating": 3.5}]
    ds = read_froc_xlsx(records_to_xlsx(truth, marks, ["r1", "r2"], ["m1", "m2"]))
    assert ds.ll_array()[0, 0, 0, 0] == 3.5 and ds.normal_cases == ["n1", "n2"]
    assert isinstance(MarkRecord("a", "b", "c", 1.0).lesion, int)
    assert TruthRecord("x").lesion == 0


def test_not_an_xlsx(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_text("hello")
    with pytest.raises(FrocDataError, match="cannot open"):
        read_froc(bad)


def test_cli_froc(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s = simulate_froc(3, 3, 15, 15, seed=9)
    data = tmp_path / "study.xlsx"
    data.write_bytes(records_to_xlsx(s.truth, s.marks, s.readers, s.modalities))
    out = tmp_path / "out"
    assert main(["froc", "--data", str(data), "--out", str(out), "--method", "DBM"]) == 0
    rep = json.loads((out / "report.json").read_text())["froc"]
    assert rep["fom_name"] == "wAFROC"
    assert set(rep["fom"]) == {"1", "2", "3"} and set(rep["fom"]["1"]) == {"1", "2", "3"}
    for key in ("or_rrrc", "or_frrc", "or_rrfc", "dbm_rrrc", "dbm_frrc", "dbm_rrfc"):
        assert {"F", "p", "diffs"} <= set(rep[key])
        assert rep[key]["diffs"][0]["contrast"] == "1 - 2"
        assert {"estimate", "se", "df", "ci_low", "ci_high", "p"} <= set(rep[key]["diffs"][0])
    assert rep["or_frrc"]["ddf"] is None and rep["or_frrc"]["X2"] == pytest.approx(
        2 * rep["or_frrc"]["F"]
    )
    assert set(rep["var_components"]) == {"var_r", "var_tr", "cov1", "cov2", "cov3", "var_error"}
    for stem in ("froc", "afroc", "wafroc"):
        assert (out / f"{stem}.png").stat().st_size > 0 and (out / f"{stem}.svg").exists()
    csv_dir = tmp_path / "csv"
    records_to_csv_dir(s.truth, s.marks, s.readers, s.modalities, csv_dir)
    assert (
        main(
            [
                "froc",
                "--data",
                str(csv_dir),
                "--out",
                str(tmp_path / "o2"),
                "--fom",
                "HrAuc",
                "--quiet",
            ]
        )
        == 0
    )
    rep2 = json.loads((tmp_path / "o2" / "report.json").read_text())["froc"]
    assert "dbm_rrrc" not in rep2 and rep2["fom_name"] == "HrAuc"


def test_cli_bad_file_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "bad.xlsx"
    data.write_bytes(workbook({"TRUTH": TRUTH, "FP": [*NL, [9, "A", 1, 2]], "TP": LL}))
    assert main(["froc", "--data", str(data), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "sheet FP, row 4, column ReaderID" in err
    assert main(["froc", "--data", str(tmp_path / "missing.xlsx"), "--out", str(tmp_path)]) == 2
    lroc = simulate_froc(2, 2, 5, 5, paradigm="LROC")
    data.write_bytes(records_to_xlsx(lroc.truth, lroc.marks, lroc.readers, lroc.modalities, "LROC"))
    assert main(["froc", "--data", str(data), "--out", str(tmp_path / "o"), "--fom", "wAFROC"]) == 2
    assert "not available for LROC" in capsys.readouterr().err
