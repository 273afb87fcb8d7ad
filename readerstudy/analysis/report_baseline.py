"""The report's Table 1: the cases' clinical characteristics by group (``baseline``).

The clinical table has one row per case (``case`` or ``case_id``, then one column per
variable, as the statistician's export writes it). Groups are the cases' truth of the primary
endpoint (``truth``: positive / negative) or the values of one clinical variable. Only the
read cases are described; the tests are ``baseline.baseline_table``'s, named in every row.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .baseline import baseline_frame, baseline_table

TRUTH = "truth"
GROUP_NAMES = {1: "positive", 0: "negative"}


def read_clinical(frame: pd.DataFrame) -> pd.DataFrame:
    """The clinical table indexed by case (as text). Raises ValueError naming the problem."""
    column = next((c for c in ("case", "case_id") if c in frame.columns), None)
    if column is None:
        raise ValueError("clinical table: needs a 'case' (or 'case_id') column")
    cases = frame[column].astype(str).str.strip()
    duplicated = sorted(set(cases[cases.duplicated()]))
    if duplicated:
        raise ValueError(f"clinical table: case(s) given twice: {', '.join(duplicated[:10])}")
    if len(frame.columns) < 2:
        raise ValueError("clinical table: no variable columns besides the case")
    out = frame.drop(columns=[column]).copy()
    out.index = pd.Index(cases, name="case")
    return out


def baseline_section(
    clinical: pd.DataFrame, reads: pd.DataFrame, group_by: str = TRUTH
) -> dict[str, Any]:
    """``{group_by, groups, n, n_cases, cases_without_clinical, rows}`` (``rows``: one per
    variable with its summaries per group, the test used and its p value)."""
    table = read_clinical(clinical)
    read_cases = pd.Index(reads["case"].astype(str).unique())
    missing = int((~read_cases.isin(table.index)).sum())
    table = table.loc[table.index.isin(read_cases)].copy()
    if table.empty:
        raise ValueError("clinical table: none of its cases is in the read table")
    if group_by == TRUTH:
        first = reads.drop_duplicates("case")
        truth = pd.Series(first["truth"].to_numpy(), index=first["case"].astype(str))
        values = pd.to_numeric(truth, errors="coerce").reindex(table.index)
        if not values.dropna().isin([0, 1]).all():
            raise ValueError("--group-by truth needs the binary truth of a binary endpoint")
        table[TRUTH] = values.map(GROUP_NAMES)
    elif group_by not in table.columns:
        known = ", ".join(map(str, table.columns))
        raise ValueError(f"--group-by {group_by!r}: not 'truth' nor a clinical column ({known})")
    labels = table[group_by].dropna().astype(str)
    order = sorted(labels.unique(), key=_group_order)
    if len(order) < 2:
        raise ValueError(f"--group-by {group_by!r}: the read cases fall in fewer than two groups")
    table = table.loc[labels.index].assign(**{group_by: labels})
    table = pd.concat([table[table[group_by] == g] for g in order])  # groups in display order
    variables = [c for c in table.columns if c != group_by and table[c].notna().any()]
    rows = baseline_table(table, group_by, variables=variables)
    return {
        "group_by": group_by,
        "groups": order,
        "n": {g: int((table[group_by] == g).sum()) for g in order},
        "n_cases": len(table),
        "cases_without_clinical": missing,
        "rows": rows,
    }


def _group_order(label: str) -> tuple[int, str]:
    return ({"positive": 0, "negative": 1}.get(label, 2), label)


def baseline_display(section: dict[str, Any]) -> pd.DataFrame:
    """Table 1 as displayed: variable, level, one column per group (with its n), test, p."""
    frame = baseline_frame(section["rows"])
    names = {g: f"{g} (n = {section['n'][g]})" for g in section["groups"]}
    return frame.rename(columns={"variable": "Variable", "level": "", "test": "Test", **names})


def baseline_notes(section: dict[str, Any]) -> list[str]:
    by = (
        "the truth of the primary endpoint" if section["group_by"] == TRUTH else section["group_by"]
    )
    notes = [
        f"Groups by {by}. Continuous variables: mean ± SD with a t-test when Shapiro-Wilk finds "
        "every group normal, else median [IQR] with a Mann-Whitney U test; categorical "
        "variables: n (%) with Pearson's chi-square, or Fisher's exact test for a 2 x 2 table "
        "with an expected count below 5 (more groups: ANOVA / Kruskal-Wallis)."
    ]
    if section["cases_without_clinical"]:
        notes.append(f"{section['cases_without_clinical']} read case(s) have no clinical data.")
    return notes
