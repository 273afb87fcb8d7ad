"""Baseline table helpers against scipy.stats computed directly on the same groups."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from readerstudy.analysis.baseline import (
    baseline_frame,
    baseline_table,
    compare_categorical,
    compare_continuous,
    describe_continuous,
)


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    # seed 001's external cohort shape: 24 CVT vs 59 other hematomas
    rng = np.random.default_rng(11)
    n1, n0 = 24, 59
    return pd.DataFrame(
        {
            "group": ["CVT"] * n1 + ["other"] * n0,
            "age": np.r_[rng.normal(45, 12, n1), rng.normal(58, 11, n0)].round(0),
            "volume_ml": np.r_[rng.lognormal(3.2, 0.8, n1), rng.lognormal(2.8, 0.9, n0)],
            "epilepsy": np.r_[rng.random(n1) < 0.45, rng.random(n0) < 0.1].astype(int),
            "hypertension": np.r_[rng.random(n1) < 0.3, rng.random(n0) < 0.6].astype(int),
            "side": rng.choice(["left", "right", "bilateral"], n1 + n0, p=[0.45, 0.45, 0.1]),
        }
    )


def _split(df: pd.DataFrame, col: str) -> tuple[np.ndarray, np.ndarray]:
    return (
        df.loc[df["group"] == "CVT", col].to_numpy(float),
        df.loc[df["group"] == "other", col].to_numpy(float),
    )


def test_normal_variable_uses_student_t(cohort):
    a, b = _split(cohort, "age")
    assert stats.shapiro(a).pvalue > 0.05 and stats.shapiro(b).pvalue > 0.05
    row = compare_continuous({"CVT": a, "other": b})
    ref = stats.ttest_ind(a, b)
    assert row["test"] == "Student t-test" and row["normal"] is True
    assert (row["statistic"], row["p"]) == pytest.approx((ref.statistic, ref.pvalue), rel=1e-12)
    assert row["display"]["CVT"] == f"{a.mean():.1f} ± {a.std(ddof=1):.1f}"
    welch = compare_continuous({"CVT": a, "other": b}, equal_var=False)
    ref = stats.ttest_ind(a, b, equal_var=False)
    assert welch["test"] == "Welch t-test" and welch["p"] == pytest.approx(ref.pvalue, rel=1e-12)


def test_skewed_variable_uses_mann_whitney(cohort):
    a, b = _split(cohort, "volume_ml")
    assert min(stats.shapiro(a).pvalue, stats.shapiro(b).pvalue) <= 0.05
    row = compare_continuous({"CVT": a, "other": b})
    ref = stats.mannwhitneyu(a, b, alternative="two-sided")
    assert row["test"] == "Mann-Whitney U" and row["normal"] is False
    assert (row["statistic"], row["p"]) == pytest.approx((ref.statistic, ref.pvalue), rel=1e-12)
    q1, med, q3 = np.percentile(b, [25, 50, 75])
    assert row["display"]["other"] == f"{med:.1f} [{q1:.1f}, {q3:.1f}]"


def test_forced_distribution_and_more_groups(cohort):
    a, b = _split(cohort, "volume_ml")
    c = a[:10] + 1
    forced = compare_continuous({"x": a, "y": b}, distribution="normal")
    assert forced["test"] == "Student t-test"
    assert forced["p"] == pytest.approx(stats.ttest_ind(a, b).pvalue, rel=1e-12)
    kw = compare_continuous({"x": a, "y": b, "z": c})
    assert kw["test"] == "Kruskal-Wallis"
    assert kw["p"] == pytest.approx(stats.kruskal(a, b, c).pvalue, rel=1e-12)
    anova = compare_continuous({"x": a, "y": b, "z": c}, distribution="normal")
    assert anova["test"] == "one-way ANOVA"
    assert anova["p"] == pytest.approx(stats.f_oneway(a, b, c).pvalue, rel=1e-12)


def test_categorical_chi_square_and_fisher():
    big = pd.DataFrame([[30, 20], [15, 35]], index=["no", "yes"], columns=["A", "B"])
    row = compare_categorical(big)
    ref = stats.chi2_contingency(big.to_numpy(), correction=False)
    assert row["test"] == "Pearson chi-square"
    assert (row["statistic"], row["df"], row["p"]) == pytest.approx((ref.statistic, 1, ref.pvalue))
    # expected count 7 * 24 / 83 = 2.0 in the first cell
    small = pd.DataFrame([[5, 2], [19, 57]], index=["yes", "no"], columns=["CVT", "other"])
    row = compare_categorical(small)
    ref = stats.fisher_exact(small.to_numpy())
    assert row["test"] == "Fisher exact" and row["min_expected"] < 5
    assert (row["statistic"], row["p"]) == pytest.approx((ref.statistic, ref.pvalue), rel=1e-12)
    assert row["levels"][1]["display"] == {"CVT": "19 (79.2%)", "other": "57 (96.6%)"}


def test_larger_table_with_small_counts_keeps_chi_square_and_says_so():
    tab = np.array([[10, 12], [8, 9], [1, 2]])
    row = compare_categorical(tab)
    ref = stats.chi2_contingency(tab, correction=False)
    assert row["test"] == "Pearson chi-square" and row["df"] == 2
    assert row["p"] == pytest.approx(ref.pvalue, rel=1e-12)
    assert "Fisher" in row["note"]


def test_baseline_table_picks_tests_and_names_them(cohort):
    rows = {r["variable"]: r for r in baseline_table(cohort, "group")}
    assert rows["age"]["test"] == "Student t-test"
    assert rows["volume_ml"]["test"] == "Mann-Whitney U"
    assert rows["epilepsy"]["type"] == rows["side"]["type"] == "categorical"
    tab = pd.crosstab(cohort["epilepsy"], cohort["group"]).to_numpy()
    expected = stats.chi2_contingency(tab, correction=False).expected_freq
    want = "Fisher exact" if (expected < 5).any() else "Pearson chi-square"
    assert rows["epilepsy"]["test"] == want
    ref = (
        stats.fisher_exact(tab).pvalue
        if want == "Fisher exact"
        else stats.chi2_contingency(tab, correction=False).pvalue
    )
    assert rows["epilepsy"]["p"] == pytest.approx(ref, rel=1e-12)
    side = pd.crosstab(cohort["side"], cohort["group"]).to_numpy()
    assert rows["side"]["p"] == pytest.approx(
        stats.chi2_contingency(side, correction=False).pvalue, rel=1e-12
    )
    frame = baseline_frame(list(rows.values()))
    assert list(frame.columns) == ["variable", "level", "CVT", "other", "test", "p"]
    assert (frame["variable"] == "side").sum() == 1 and (frame["level"] != "").sum() == 2 + 2 + 3


def test_missing_values_are_counted_and_left_out(cohort):
    df = cohort.copy()
    df.loc[[0, 1, 30], "age"] = np.nan
    (row,) = baseline_table(df, "group", ["age"])
    assert row["missing"] == {"CVT": 2, "other": 1}
    a = df.loc[(df["group"] == "CVT") & df["age"].notna(), "age"]
    assert row["summary"]["CVT"]["n"] == len(a)
    assert row["summary"]["CVT"]["mean"] == pytest.approx(a.mean())


def test_describe_continuous_quartiles():
    d = describe_continuous([1, 2, 3, 4, 100])
    assert (d["median"], d["q1"], d["q3"]) == (3, 2, 4)
    assert d["median_iqr"] == "3.0 [2.0, 4.0]"


def test_errors():
    with pytest.raises(ValueError, match="two groups"):
        compare_continuous({"a": [1, 2, 3]})
    with pytest.raises(ValueError, match="two groups"):
        baseline_table(pd.DataFrame({"g": ["a", "a"], "x": [1, 2]}), "g")
