"""The report's words: numbers as a journal prints them, footnotes and degenerate results."""

import numpy as np
import pandas as pd
import pytest

from readerstudy.analysis import build_report
from readerstudy.analysis.performance import fmt_ci, fmt_num
from readerstudy.analysis.report_text import mrmc_explanations, table3_footnotes


@pytest.mark.parametrize(
    ("value", "text"),
    [(-0.00001, "0.0000"), (-0.0, "0.0000"), (-0.00006, "-0.0001"), (0.12345, "0.1235"),
     (float("nan"), "NA"), (None, "NA"), (float("inf"), "\u221e")],
)  # fmt: skip
def test_numbers_never_print_as_negative_zero(value, text):
    assert fmt_num(value) == text


def test_intervals_use_the_same_formatting():
    assert fmt_ci(-0.00001, -0.1, 0.00002) == "0.0000 [-0.1000, 0.0000]"


def _reads(seed, readers, cases, p_unaided, p_aided):
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(readers):
        for c in range(cases):
            t = c % 2
            for cond, p in (("unaided", p_unaided), ("aided", p_aided)):
                right = rng.random() < p
                rows.append(
                    {"reader": f"r{r}", "case": f"c{c}", "condition": cond, "truth": t,
                     "decision": t if right else 1 - t}
                )  # fmt: skip
    return pd.DataFrame(rows)


def test_an_lmm_interval_outside_0_1_is_marked_and_explained():
    report = build_report(_reads(1, 2, 6, 0.9, 0.97))
    table = report.table3
    flagged = table[table["ci_outside_unit"]]
    assert len(flagged) and (flagged["perf_ci_high"] > 1).all()
    assert flagged["performance_display"].str.endswith("\u2020").all()
    notes = table3_footnotes(table, has_glmm=False)
    assert len(notes) == 1 and "extra_models = glmm" in notes[0]
    html = report_html(report)
    assert "below 0 or above 1" in html


def test_a_study_with_intervals_inside_0_1_has_no_footnote():
    report = build_report(_reads(3, 8, 60, 0.7, 0.8))
    assert not report.table3["ci_outside_unit"].any()
    assert table3_footnotes(report.table3, has_glmm=False) == []


def test_mrmc_without_variance_is_explained_in_words():
    rows = []
    for r in range(3):
        for c in range(8):
            for cond in ("unaided", "aided"):
                t = c % 2
                wrong = c == 0
                rows.append(
                    {"reader": f"r{r}", "case": f"c{c}", "condition": cond, "truth": t,
                     "decision": 1 - t if wrong else t}
                )  # fmt: skip
    report = build_report(pd.DataFrame(rows))
    words = mrmc_explanations(report.mrmc)
    assert any(w.startswith("accuracy:") and "all readers agree" in w for w in words)
    html = report_html(report)
    assert "standard error is 0" in html and "-0.0000" not in html
    assert "Obuchowski-Rockette, random readers and cases" in html


def report_html(report) -> str:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        report.write(Path(tmp), formats=("html",))
        return (Path(tmp) / "report.html").read_text()
