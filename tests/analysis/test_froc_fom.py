"""FROC/LROC figures of merit against independent computations: the textbook definitions as
plain loops over the records, explicit leave-one-case-out recomputation, curve areas, and the
identities between FOMs."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pytest

from readerstudy.analysis.fom import fom_from_arrays
from readerstudy.analysis.froc import froc_analysis
from readerstudy.analysis.froc_fom import FROC_FOMS, LROC_FOMS, froc_fom_data
from readerstudy.analysis.froc_io import (
    FrocDataset,
    TruthRecord,
    build_tables,
    parse_tables,
)
from readerstudy.analysis.froc_report import empirical_curves
from readerstudy.analysis.froc_simulate import SimulatedStudy, simulate_froc

NEG = -math.inf


def build(study: SimulatedStudy) -> FrocDataset:
    t = build_tables(study.truth, study.marks, study.readers, study.modalities, study.paradigm)
    return parse_tables(t["TRUTH"], t["FP"], t["TP"])


@pytest.fixture(scope="module")
def small() -> SimulatedStudy:
    # ties on purpose (one decimal), unmarked cases and lesions, unequal weights
    s = simulate_froc(2, 3, 9, 8, max_lesions=3, lam=0.8, nu=0.6, seed=7, decimals=1)
    truth = [
        TruthRecord(t.case, t.lesion, (0.7 if t.lesion == 1 else 0.3 / 2) if t.lesion else 0.0)
        if sum(1 for u in s.truth if u.case == t.case) == 3
        else t
        for t in s.truth
    ]
    return SimulatedStudy(truth, s.marks, s.readers, s.modalities, s.paradigm)


def psi(x: float, y: float) -> float:
    return 1.0 if y > x else 0.5 if y == x else 0.0


def brute(study: SimulatedStudy, fom: str, m: str, r: str) -> float:
    """The definitions, computed directly from the records."""
    lesions: dict[str, dict[int, float]] = defaultdict(dict)
    normal = []
    for t in study.truth:
        if t.lesion == 0:
            normal.append(t.case)
        else:
            lesions[t.case][t.lesion] = t.weight
    for c, ws in lesions.items():
        total = sum(ws.values())
        lesions[c] = {k: (w / total if total else 1 / len(ws)) for k, w in ws.items()}
    cases = normal + list(lesions)
    nl: dict[str, list[float]] = defaultdict(list)
    ll: dict[tuple[str, int], float] = {}
    for mk in study.marks:
        if mk.modality == m and mk.reader == r:
            if mk.lesion:
                ll[(mk.case, mk.lesion)] = mk.rating
            else:
                nl[mk.case].append(mk.rating)
    fp = {c: max(nl[c], default=NEG) for c in cases}
    les = [(c, k, w, ll.get((c, k), NEG)) for c, ws in lesions.items() for k, w in ws.items()]
    k1, k2, lt = len(normal), len(lesions), len(les)
    if fom in ("AFROC", "wAFROC", "AFROC1", "wAFROC1"):
        pool = cases if fom.endswith("1") else normal
        weighted = fom.startswith("w")
        total = sum((w if weighted else 1.0) * psi(fp[a], z) for a in pool for (_, _, w, z) in les)
        return total / (len(pool) * (k2 if weighted else lt))
    top = {c: max([fp[c]] + [z for (cc, _, _, z) in les if cc == c]) for c in lesions}
    if fom in ("HrAuc", "Wilcoxon"):
        return sum(psi(fp[a], top[b]) for a in normal for b in lesions) / (k1 * k2)
    if fom == "HrSe":
        return sum(top[b] > NEG for b in lesions) / k2
    if fom == "HrSp":
        return sum(fp[a] == NEG for a in normal) / k1
    if fom == "MaxLLF":
        return sum(z > NEG for (*_, z) in les) / lt
    if fom == "MaxNLF":
        return sum(len(nl[a]) for a in normal) / k1
    raise AssertionError(fom)


@pytest.mark.parametrize("fom", FROC_FOMS)
def test_fom_matches_definition(small: SimulatedStudy, fom: str) -> None:
    data = froc_fom_data(build(small), fom)
    for i, m in enumerate(small.modalities):
        for j, r in enumerate(small.readers):
            assert data.theta[i, j] == pytest.approx(brute(small, fom, m, r), abs=1e-12)


def _drop(study: SimulatedStudy, case: str) -> SimulatedStudy:
    return SimulatedStudy(
        [t for t in study.truth if t.case != case],
        [mk for mk in study.marks if mk.case != case],
        study.readers,
        study.modalities,
        study.paradigm,
    )


@pytest.mark.parametrize("fom", [*FROC_FOMS])
def test_jackknife_equals_explicit_deletion(small: SimulatedStudy, fom: str) -> None:
    ds = build(small)
    data = froc_fom_data(ds, fom)
    if fom in ("HrSp", "MaxNLF"):
        cases = ds.normal_cases
    elif fom in ("HrSe", "MaxLLF"):
        cases = ds.diseased_cases
    else:
        cases = ds.cases
    explicit = np.stack([froc_fom_data(build(_drop(small, c)), fom).theta for c in cases], axis=2)
    assert data.jack.shape == explicit.shape
    # the jackknife values are centred (a constant shift per reader x modality)
    dev = data.jack - data.jack.mean(axis=2, keepdims=True)
    np.testing.assert_allclose(dev, explicit - explicit.mean(axis=2, keepdims=True), atol=1e-12)
    np.testing.assert_allclose(data.pseudovalues().mean(axis=2), data.theta, atol=1e-12)


def test_single_lesion_equal_weights_wafroc_equals_afroc() -> None:
    s = simulate_froc(2, 2, 20, 15, max_lesions=1, seed=3)
    ds = build(s)
    np.testing.assert_allclose(froc_fom_data(ds, "wAFROC").theta, froc_fom_data(ds, "AFROC").theta)


def test_hrauc_is_wilcoxon_of_highest_rating(small: SimulatedStudy) -> None:
    ds = build(small)
    nl_top, _ = ds.nl_arrays()
    top = nl_top.copy()
    top[:, :, ds.k1 :] = np.maximum(top[:, :, ds.k1 :], ds.ll_array().max(axis=3))
    top = np.where(np.isfinite(top), top, -1e9)
    truth = np.r_[np.zeros(ds.k1), np.ones(ds.k2)]
    ref = fom_from_arrays("auc", truth, top, ds.modalities, ds.readers)
    data = froc_fom_data(ds, "HrAuc")
    np.testing.assert_allclose(data.theta, ref.theta, atol=1e-12)
    np.testing.assert_allclose(data.jackknife_cov(), ref.jackknife_cov(), atol=1e-14)


@pytest.mark.parametrize(("kind", "fom"), [("AFROC", "AFROC"), ("wAFROC", "wAFROC")])
def test_curve_area_is_fom(small: SimulatedStudy, kind: str, fom: str) -> None:
    ds = build(small)
    theta = froc_fom_data(ds, fom).theta
    for i in range(len(ds.modalities)):
        for j in range(len(ds.readers)):
            assert empirical_curves(ds, i, j)[kind].area() == pytest.approx(theta[i, j])


def test_froc_curve_end_point_is_maxllf_and_nlf(small: SimulatedStudy) -> None:
    ds = build(small)
    llf = froc_fom_data(ds, "MaxLLF").theta
    n_nl = np.bincount(ds.nl_m * len(ds.readers) + ds.nl_r, minlength=llf.size)
    for i in range(len(ds.modalities)):
        for j in range(len(ds.readers)):
            c = empirical_curves(ds, i, j)["FROC"]
            assert c.y[-1] == pytest.approx(llf[i, j])
            assert c.x[-1] == pytest.approx(n_nl[i * len(ds.readers) + j] / (ds.k1 + ds.k2))


def _lroc_brute(fp: list[float], cl: list[float], fpf: float) -> tuple[float, float]:
    """PCL(fpf) and ALROC(fpf) from a fine numerical walk along the empirical LROC."""
    zetas = sorted({x for x in fp + cl if x > NEG}, reverse=True)
    pts = [(0.0, 0.0)]
    pts += [(sum(x >= z for x in fp) / len(fp), sum(x >= z for x in cl) / len(cl)) for z in zetas]
    pts.append((1.0, pts[-1][1]))
    # keep the lowest and highest point of each vertical step (np.interp then takes the
    # upper one on the left of an interval and the lower one on its right)
    steps: dict[float, list[float]] = {}
    for x, y in pts:
        steps.setdefault(x, []).append(y)
    xs = np.array([x for x, ys in steps.items() for _ in (min(ys), max(ys))])
    ys = np.array([v for _, y in steps.items() for v in (min(y), max(y))])
    grid = np.linspace(0, fpf, 200001)
    vals = np.interp(grid, xs, ys)
    return float(vals[-1]), float(np.trapezoid(vals, grid))


@pytest.mark.parametrize("fpf", [0.05, 0.2, 0.5, 1.0])
def test_lroc_foms(fpf: float) -> None:
    s = simulate_froc(2, 2, 30, 25, paradigm="LROC", seed=11, decimals=1)
    ds = build(s)
    pcl = froc_fom_data(ds, "PCL", fpf).theta
    alroc = froc_fom_data(ds, "ALROC", fpf).theta
    wil = froc_fom_data(ds, "Wilcoxon").theta
    hr = ds.normal_cases
    for i, m in enumerate(s.modalities):
        for j, r in enumerate(s.readers):
            mk = {x.case: x for x in s.marks if x.modality == m and x.reader == r}
            fp = [mk[c].rating if c in mk else NEG for c in hr]
            cl = [mk[c].rating if c in mk and mk[c].lesion else NEG for c in ds.diseased_cases]
            p, a = _lroc_brute(fp, cl, fpf)
            assert pcl[i, j] == pytest.approx(p, abs=1e-9)
            assert alroc[i, j] == pytest.approx(a, abs=1e-6)
            top = [mk[c].rating if c in mk else NEG for c in ds.diseased_cases]
            w = sum(psi(x, y) for x in fp for y in top) / (len(fp) * len(top))
            assert wil[i, j] == pytest.approx(w)


def test_lroc_alroc_full_range_is_curve_area() -> None:
    ds = build(simulate_froc(2, 2, 30, 25, paradigm="LROC", seed=5))
    a = froc_fom_data(ds, "ALROC", 1.0).theta
    assert empirical_curves(ds, 0, 1)["LROC"].area() == pytest.approx(a[0, 1])


# MaxLLF is left out: on the small simulated study its error term is rounding noise.
@pytest.mark.parametrize("fom", [f for f in FROC_FOMS if f != "MaxLLF"])
def test_dbm_rrrc_equals_or_rrrc(small: SimulatedStudy, fom: str) -> None:
    """With centred pseudovalues DBM-RRRC (Hillis ddf) equals OR-RRRC (jackknife)."""
    out = froc_analysis(build(small), fom, "DBM").to_dict()
    assert out["or_rrrc"]["F"] is not None and out["or_rrrc"]["error_term"] > 1e-12
    assert out["dbm_rrrc"]["F"] == pytest.approx(out["or_rrrc"]["F"], rel=1e-9)
    assert out["dbm_rrrc"]["ddf"] == pytest.approx(out["or_rrrc"]["ddf"], rel=1e-9)
    assert out["dbm_rrfc"]["F"] == pytest.approx(out["or_rrfc"]["F"], rel=1e-9)


def test_rjafroc_varcomp_convention(small: SimulatedStudy) -> None:
    ds = build(small)
    a = froc_analysis(ds, "wAFROC")
    b = froc_analysis(ds, "wAFROC", varcomp="rjafroc")
    c = a.orr.components
    clipped = max(c.cov2 - c.cov3, 0.0)
    assert b.var_components()["var_tr"] == pytest.approx(c.ms_tr - c.var + c.cov1 + clipped)
    assert a.var_components()["var_tr"] == pytest.approx(c.var_tr)
    # the tests themselves do not change
    assert a.to_dict()["or_rrrc"] == b.to_dict()["or_rrrc"]


def test_fom_paradigm_checks() -> None:
    froc = build(simulate_froc(2, 2, 5, 5, seed=1))
    lroc = build(simulate_froc(2, 2, 5, 5, paradigm="LROC", seed=1))
    with pytest.raises(ValueError, match="not available for FROC"):
        froc_fom_data(froc, "PCL")
    for fom in FROC_FOMS:
        with pytest.raises(ValueError, match="not available for LROC"):
            froc_fom_data(lroc, fom)
    for fom in LROC_FOMS:
        froc_fom_data(lroc, fom)
