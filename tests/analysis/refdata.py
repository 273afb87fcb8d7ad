"""Loaders and parsers for the reference outputs in tests/analysis/data/."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parent / "data"
NUM = r"-?\d+(?:\.\d+)?(?:e-?\d+)?"


def printed_tol(text: str) -> float:
    """Half a unit in the last printed decimal (plus float slack)."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    return 0.5 * 10.0**-decimals + 1e-12


def assert_printed(value: float, text: str, what: str = "") -> None:
    ref = float(text)
    assert abs(value - ref) <= printed_tol(text), f"{what}: {value!r} vs printed {text}"


def mrmc_dataset(name: str) -> tuple[np.ndarray, np.ndarray, list[str], list[str], pd.DataFrame]:
    """(ratings (t, r, c), truth (c,), modalities, readers, long frame) of VanDyke/Franken."""
    d = pd.read_csv(DATA / f"{name}.csv")
    mods = sorted(d["modality"].unique())
    rdrs = sorted(d["reader"].unique())
    cases = sorted(d["case"].unique())
    idx = pd.MultiIndex.from_product([mods, rdrs, cases])
    v = d.set_index(["modality", "reader", "case"])["rating"].reindex(idx).to_numpy()
    truth = d.drop_duplicates("case").set_index("case")["truth"].reindex(cases).to_numpy()
    return (
        v.reshape(len(mods), len(rdrs), len(cases)),
        truth,
        [str(m) for m in mods],
        [str(r) for r in rdrs],
        d,
    )


def vandyke_reads(threshold: int = 3) -> pd.DataFrame:
    """VanDyke as a read table: modality 1 -> 'unaided', 2 -> 'aided'; decision = rating >= t."""
    d = pd.read_csv(DATA / "VanDyke.csv")
    return pd.DataFrame(
        {
            "reader": d["reader"].astype(str),
            "case": d["case"].astype(str),
            "condition": np.where(d["modality"] == 1, "unaided", "aided"),
            "truth": d["truth"],
            "decision": (d["rating"] >= threshold).astype(int),
            "rating": d["rating"].astype(float),
        }
    )


# --- OR-DBM MRMC 2.51 text output --------------------------------------------------------------
def _section(text: str, start: str, end: str | None = None) -> str:
    i = text.index(start)
    j = text.index(end, i) if end else len(text)
    return text[i:j]


def parse_iowa(name: str) -> dict:
    text = (DATA / f"{name}_OR-DBM-MRMC-2.51.txt").read_text()
    out: dict = {}
    est = _section(text, "TREATMENT x READER AUC ESTIMATES", "TREATMENT AUC MEANS")
    out["auc"] = [
        re.findall(NUM, line)[1:]
        for line in est.splitlines()
        if re.match(r"^\s+\d+\s+\d\.\d+\s+\d\.\d+\s*$", line)
    ]
    means = _section(text, "TREATMENT AUC MEANS", "TREATMENT AUC MEAN DIFFERENCES")
    out["means"] = re.findall(rf"^\s+\d+\s+({NUM})\s*$", means, re.M)
    diffs = _section(text, "TREATMENT AUC MEAN DIFFERENCES", "ANOVA Tables")
    out["diff"] = re.search(rf"1 - 2\s+({NUM})", diffs).group(1)
    anova = _section(text, "TREATMENT X READER ANOVA of AUCs", "READER ANOVAs")
    out["anova"] = {
        m.group(1): {"ss": m.group(2), "df": m.group(3), "ms": m.group(4)}
        for m in re.finditer(rf"^\s+(T|R|T\*R)\s+({NUM})\s+(\d+)\s+({NUM})", anova, re.M)
    }
    rdr = _section(text, "READER ANOVAs of AUCs", "Variance component")
    out["ms_r_by_modality"] = re.search(rf"^\s+R\s+\d+\s+({NUM})\s+({NUM})", rdr, re.M).groups()
    comp = _section(text, "Obuchowski-Rockette variance component", "Corresponding DBM")
    out["or"] = {
        "var_r": re.search(rf"Var\(R\)\s+({NUM})", comp).group(1),
        "var_tr": re.search(rf"Var\(T\*R\)\s+({NUM})", comp).group(1),
        "cov1": re.search(rf"COV1\s+({NUM})\s+({NUM})", comp).groups(),
        "cov2": re.search(rf"COV2\s+({NUM})\s+({NUM})", comp).groups(),
        "cov3": re.search(rf"COV3\s+({NUM})\s+({NUM})", comp).groups(),
        "var_error": re.search(rf"Var\(Error\)\s+({NUM})", comp).group(1),
    }
    dbm = _section(text, "Corresponding DBM", "Analysis 1")
    out["dbm"] = {
        "var_r": re.search(rf"Var\(R\)\s+({NUM})", dbm).group(1),
        "var_c": re.search(rf"Var\(C\)\s+({NUM})", dbm).group(1),
        "var_tr": re.search(rf"Var\(T\*R\)\s+({NUM})", dbm).group(1),
        "var_tc": re.search(rf"Var\(T\*C\)\s+({NUM})", dbm).group(1),
        "var_rc": re.search(rf"Var\(R\*C\)\s+({NUM})", dbm).group(1),
        "var_trc_error": re.search(rf"Var\(T\*R\*C\) \+ Var\(Error\)\s+({NUM})", dbm).group(1),
    }
    ci = rf"\(\s*({NUM})\s*,\s*({NUM})\)"
    a1 = _section(text, "Analysis 1 (OR Analysis)", "Analysis 2 (OR Analysis)")
    m = re.search(rf"Treatment\s+1\s+({NUM})\s+({NUM})\s+({NUM})", a1)
    e = re.search(rf"Error term\s+({NUM})\s+({NUM})", a1)
    d = re.search(rf"1 - 2\s+({NUM})\s+({NUM})\s+({NUM})\s+({NUM})\s+({NUM})\s+{ci}", a1)
    out["rrrc"] = {
        "ms_t": m.group(1),
        "F": m.group(2),
        "p": m.group(3),
        "ddf": e.group(1),
        "error_term": e.group(2),
        "diff": d.group(1),
        "se": d.group(2),
        "df": d.group(3),
        "t": d.group(4),
        "p_t": d.group(5),
        "ci": d.groups()[5:],
    }
    out["rrrc_single"] = [
        {"auc": g[1], "se": g[2], "df": g[3], "ci": (g[4], g[5]), "cov2": g[6]}
        for g in re.findall(rf"^\s+(\d)\s+({NUM})\s+({NUM})\s+({NUM})\s+{ci}\s+({NUM})", a1, re.M)
    ]
    a2 = _section(text, "Analysis 2 (OR Analysis)", "Analysis 3 (OR Analysis)")
    x2 = re.search(rf"^\s+({NUM})\s+1\s+({NUM})\s*$", a2, re.M)
    d = re.search(rf"^\s+1 - 2\s+({NUM})\s+({NUM})\s+({NUM})\s+({NUM})\s+{ci}", a2, re.M)
    out["frrc"] = {
        "X2": x2.group(1),
        "p": x2.group(2),
        "diff": d.group(1),
        "se": d.group(2),
        "z": d.group(3),
        "p_z": d.group(4),
        "ci": d.groups()[4:],
    }
    out["frrc_single"] = [
        {"auc": g[1], "se": g[2], "ci": (g[3], g[4])}
        for g in re.findall(rf"^\s+(\d)\s+({NUM})\s+({NUM})\s+{ci}\s*$", a2, re.M)
    ]
    out["frrc_reader"] = [
        {"reader": g[0], "diff": g[1], "se": g[2], "z": g[3], "p": g[4], "ci": (g[5], g[6])}
        for g in re.findall(
            rf"^\s+(\d)\s+1 - 2\s+({NUM})\s+({NUM})\s+({NUM})\s+({NUM})\s+{ci}", a2, re.M
        )
    ]
    var_tab = re.findall(rf"^\s+(\d)\s+({NUM})\s+({NUM})\s*$", a2, re.M)
    out["frrc_var_by_modality"] = var_tab[:2]
    out["frrc_var_by_reader"] = var_tab[2:]
    a3 = _section(text, "Analysis 3 (OR Analysis)", "REFERENCES")
    m = re.search(rf"Treatment\s+1\s+({NUM})\s+({NUM})\s+({NUM})", a3)
    d = re.search(rf"1 - 2\s+({NUM})\s+({NUM})\s+(\d+)\s+({NUM})\s+({NUM})\s+{ci}", a3)
    out["rrfc"] = {
        "F": m.group(2),
        "p": m.group(3),
        "diff": d.group(1),
        "se": d.group(2),
        "df": d.group(3),
        "t": d.group(4),
        "ci": d.groups()[5:],
    }
    out["rrfc_single"] = [
        {"auc": g[1], "ms_r": g[2], "se": g[3], "df": g[4], "ci": (g[5], g[6])}
        for g in re.findall(rf"^\s+(\d)\s+({NUM})\s+({NUM})\s+({NUM})\s+(\d+)\s+{ci}", a3, re.M)
    ]
    return out


# --- MRMCaov computed output ------------------------------------------------------------------
def parse_mrmcaov_block(title: str) -> dict:
    """Covariance table, global test and pairwise row of one '#### title' block."""
    text = (DATA / "MRMCaov-0.3.0_computed.txt").read_text()
    block = text[text.index(f"#### {title}") :]
    block = block[: block.find("\n####", 5) if "\n####" in block[5:] else len(block)]
    out = {}
    for key, label in (
        ("var_r", "reader"),
        ("var_tr", "treatment:reader"),
        ("var_error", "Error"),
        ("cov1", "Cov1"),
        ("cov2", "Cov2"),
        ("cov3", "Cov3"),
    ):
        out[key] = float(re.search(rf"^{re.escape(label)}\s+({NUM})", block, re.M).group(1))
    glob = block[block.index("ANOVA global test") :].splitlines()[2]
    vals = [float(x) for x in re.findall(NUM, glob)[1:]]
    out["global"] = vals
    pair = block[block.index("pairwise differences") :].splitlines()[2]
    nums = [float(x) for x in re.findall(NUM, pair.split("1 - 2")[1])]
    out["pairwise"] = nums
    return out


# --- lmerTest computed output -------------------------------------------------------------------
def parse_lmertest() -> dict[str, dict]:
    """Per '#### title' block: variance components, fixed-effect rows, emmeans and contrasts."""
    text = (DATA / "lmerTest-3.1-3_VanDyke_binary_computed.txt").read_text()
    blocks = {}
    for chunk in text.split("#### ")[1:]:
        title, body = chunk.split("\n", 1)
        lines = body.splitlines()
        vc = {}
        for ln in lines:
            m = re.match(rf"^\d+\s+(\S+)\s+({NUM})\s*$", ln.strip())
            if m:
                vc[m.group(1)] = float(m.group(2))
        coef = re.search(
            rf"^modality2\s+({NUM})\s+({NUM})\s+({NUM})\s+({NUM})\s+({NUM})", body, re.M
        ).groups()
        emm = re.findall(
            rf"^(\d)\s+(\d)\s+({NUM})\s+({NUM})\s+({NUM})\s+({NUM})\s+({NUM})", body, re.M
        )
        con = re.search(
            rf"modality1 - modality2\s+({NUM})\s+({NUM})\s+({NUM})\s+({NUM})\s+({NUM})"
            rf"\s+({NUM})\s+({NUM})",
            body,
        ).groups()
        blocks[title.strip()] = {
            "vc": vc,
            "coef": dict(zip(("estimate", "se", "df", "t", "p"), map(float, coef), strict=True)),
            "emm": {
                e[1]: dict(
                    zip(
                        ("estimate", "se", "df", "ci_low", "ci_high"),
                        map(float, e[2:]),
                        strict=True,
                    )
                )
                for e in emm
            },
            "contrast": dict(
                zip(
                    ("estimate", "se", "df", "ci_low", "ci_high", "t", "p"),
                    map(float, con),
                    strict=True,
                )
            ),
        }
    return blocks
