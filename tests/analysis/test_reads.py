"""Read-table validation: every problem is reported with its rows and columns."""

import pandas as pd
import pytest

from readerstudy.analysis.reads import (
    ReadsValidationError,
    validate_reads,
    validate_scores,
)


def base() -> pd.DataFrame:
    rows = []
    for reader in ("A", "B"):
        for case, truth in (("1", 1), ("2", 0), ("3", 1)):
            for cond in ("unaided", "aided"):
                rows.append(
                    {
                        "reader": reader,
                        "case": case,
                        "condition": cond,
                        "truth": truth,
                        "decision": truth,
                        "rating": 80 if truth else 20,
                    }
                )
    return pd.DataFrame(rows)


def errors_of(df) -> list[str]:
    with pytest.raises(ReadsValidationError) as exc:
        validate_reads(df)
    return exc.value.errors


def test_valid_table_is_typed_and_scored():
    df = base()
    df.loc[0, "decision"] = 0
    out = validate_reads(df)
    assert out["correct"].tolist()[:2] == [0, 1]
    assert out["truth"].dtype.kind == "i" and out["rating"].dtype.kind == "f"


def test_missing_columns_are_named():
    (msg,) = errors_of(base().drop(columns=["truth", "decision"]))
    assert "truth" in msg and "decision" in msg


def test_any_condition_name_is_accepted_but_not_an_empty_one():
    df = base()
    df.loc[df["condition"] == "aided", "condition"] = " Assisted "
    assert set(validate_reads(df)["condition"]) == {"unaided", "assisted"}
    df.loc[3, "condition"] = ""
    (msg,) = errors_of(df)
    assert "row 4" in msg and "'condition' is empty" in msg


def test_truth_and_decision_must_be_binary():
    df = base().astype({"decision": object})
    df.loc[1, "truth"] = 2
    df.loc[5, "decision"] = "yes"
    msgs = errors_of(df)
    assert any("'truth'" in m and "row 2" in m for m in msgs)
    assert any("'decision'" in m and "row 6" in m for m in msgs)


def test_inconsistent_truth_per_case():
    df = base()
    df.loc[(df["reader"] == "B") & (df["case"] == "2"), "truth"] = 1
    (msg,) = errors_of(df)
    assert "case(s) 2" in msg and "different 'truth'" in msg


def test_duplicate_reads():
    df = pd.concat([base(), base().iloc[[2]]], ignore_index=True)
    (msg,) = errors_of(df)
    assert "duplicate" in msg and "rows 3, 13" in msg


def test_rating_range_and_model_rows():
    df = base()
    df.loc[0, "rating"] = 150
    model = pd.DataFrame(
        {
            "reader": ["m", "m", "m2"],
            "case": ["1", "1", "2"],
            "condition": "model",
            "truth": [1, 1, 0],
            "decision": [1, 0, 0],
        }
    )
    msgs = errors_of(pd.concat([df, model], ignore_index=True))
    assert any("0-100" in m and "row 1" in m for m in msgs)
    assert any("one read per case" in m for m in msgs)
    assert any("one reader id" in m for m in msgs)


def test_ids_written_as_floats_match_integers():
    df = base()
    df["case"] = df["case"].astype(float)
    assert set(validate_reads(df)["case"]) == {"1", "2", "3"}


def test_scores_validation():
    good = pd.DataFrame({"case": ["1", "2"], "truth": [1, 0], "score": [0.9, 0.1]})
    assert validate_scores(good)["score"].tolist() == [0.9, 0.1]
    bad = pd.DataFrame({"case": ["1", "1"], "truth": [1, 1], "score": ["x", 0.1]})
    with pytest.raises(ReadsValidationError) as exc:
        validate_scores(bad)
    text = str(exc.value)
    assert "'score'" in text and "duplicate case" in text
