"""Calibration of predicted risks: Brier score, logistic recalibration (slope, intercept,
calibration-in-the-large), binned and lowess-smoothed calibration curves, and the
Hosmer-Lemeshow goodness-of-fit test (seed 001).

Conventions (docs/analysis.md, "Calibration, decision curves, ICC, baseline table"):

* ``slope`` and ``intercept`` are the coefficients of the logistic recalibration
  ``logit P(y = 1) = intercept + slope * logit(p)``, both estimated - the ``Slope`` and
  ``Intercept`` of R's ``rms::val.prob``. ``citl`` (calibration-in-the-large) is the intercept
  with the slope fixed at 1 (``glm(y ~ offset(logit(p)))``, Van Calster et al. 2016). Risks of
  exactly 0 or 1 have an infinite logit and are left out of both fits, as ``val.prob`` does.
* The smooth curve is ``lowess(p, y, iter = 0)`` (R defaults: span 2/3, delta 1 % of the range),
  read at each ``p`` with ties averaged; ``eavg``/``emax``/``e90`` are the mean / maximum / 0.9
  quantile of ``|p - smooth(p)|`` (``val.prob``'s Eavg, Emax, E90).
* Hosmer-Lemeshow groups are ``ResourceSelection::hoslem.test``'s: cut at the distinct type-7
  quantiles ``0, 1/g, ..., 1`` of the risks, intervals closed on the right (the first one on
  both sides); ``df`` = number of groups formed - 2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats
from scipy.special import expit, logit

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
Strategy = Literal["quantile", "uniform"]

_MAX_ITER = 50
_TOL = 1e-10
SMOOTH_POINTS = 101


def outcome_and_risk(y: ArrayLike, p: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """``(y, p)`` as float arrays after checking that ``y`` is 0/1 and ``p`` lies in [0, 1]."""
    yy = np.asarray(y, dtype=float).ravel()
    pp = np.asarray(p, dtype=float).ravel()
    if yy.shape != pp.shape:
        raise ValueError(f"y and p differ in length ({yy.size} vs {pp.size})")
    if yy.size == 0:
        raise ValueError("no observations")
    if not np.isin(yy, (0.0, 1.0)).all():
        raise ValueError("y must be 0 or 1")
    if not (np.isfinite(pp).all() and (pp >= 0).all() and (pp <= 1).all()):
        raise ValueError("predicted risks must be finite numbers in [0, 1]")
    return yy, pp


# --- logistic recalibration ----------------------------------------------------------------
def _logistic_fit(
    y: FloatArray, x: FloatArray | None, offset: FloatArray
) -> tuple[list[float], bool]:
    """Maximum-likelihood logistic regression of ``y`` on an intercept (and ``x``) with an
    ``offset``, by Newton-Raphson with step halving. Returns (coefficients, converged)."""
    design = np.ones((y.size, 1)) if x is None else np.column_stack([np.ones(y.size), x])
    beta = np.zeros(design.shape[1])
    if x is None:
        mean_y = float(y.mean())
        if 0 < mean_y < 1:
            beta[0] = float(logit(mean_y)) - float(offset.mean())

    def deviance(b: FloatArray) -> float:
        eta = offset + design @ b
        # -2 log L = 2 * sum(log(1 + exp(eta)) - y * eta)
        return float(2.0 * np.sum(np.logaddexp(0.0, eta) - y * eta))

    dev = deviance(beta)
    for _ in range(_MAX_ITER):
        mu = expit(offset + design @ beta)
        w = mu * (1.0 - mu)
        grad = design.T @ (y - mu)
        info = design.T @ (design * w[:, None])
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            return [math.nan] * design.shape[1], False
        t = 1.0
        while True:
            new = beta + t * step
            new_dev = deviance(new)
            if new_dev <= dev + 1e-12 or t < 1e-8:
                break
            t /= 2.0
        converged = abs(dev - new_dev) < _TOL * (abs(new_dev) + 0.1) and bool(
            np.all(np.abs(new - beta) < 1e-8 * (np.abs(new) + 1.0))
        )
        beta, dev = new, new_dev
        if converged:
            return [float(v) for v in beta], True
    return [float(v) for v in beta], False


def logistic_recalibration(y: ArrayLike, p: ArrayLike) -> dict[str, Any]:
    """Calibration slope and intercept (``rms::val.prob``) and calibration-in-the-large.

    Returns ``intercept, slope, citl, n_used, n_excluded, converged``; ``n_excluded`` counts the
    risks of exactly 0 or 1, left out because their logit is infinite. With constant risks the
    slope is 0 and the intercept logit(mean y), as ``val.prob`` reports."""
    yy, pp = outcome_and_risk(y, p)
    keep = (pp > 0) & (pp < 1)
    yk, lp = yy[keep], logit(pp[keep])
    out: dict[str, Any] = {
        "intercept": math.nan,
        "slope": math.nan,
        "citl": math.nan,
        "n_used": int(keep.sum()),
        "n_excluded": int((~keep).sum()),
        "converged": False,
    }
    if yk.size == 0 or yk.min() == yk.max():
        return out  # no events or no non-events: the logistic fits have no finite solution
    (citl,), ok_citl = _logistic_fit(yk, None, lp)
    if np.ptp(lp) == 0:
        intercept, slope, ok = float(logit(yk.mean())), 0.0, True
    else:
        (intercept, slope), ok = _logistic_fit(yk, lp, np.zeros(yk.size))
    out.update(intercept=intercept, slope=slope, citl=citl, converged=bool(ok and ok_citl))
    return out


# --- smoothing -------------------------------------------------------------------------------
def lowess_curve(p: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``lowess(p, y, iter = 0)`` with R's defaults (span 2/3, delta = 1 % of the range of p):
    (sorted p, smoothed y)."""
    import warnings

    from statsmodels.nonparametric.smoothers_lowess import lowess

    frac = 2.0 / 3.0
    ux, inverse, counts = np.unique(p, return_inverse=True, return_counts=True)
    # A risk shared by at least as many observations as the span holds has a window of zero
    # width, where statsmodels divides by zero; R's lowess gives every tied point weight 1
    # there, i.e. the mean outcome of the tie (for the lowest risk exactly, elsewhere of the
    # ties inside R's window). Those points get the mean of the tie, and no delta-skipping
    # interpolates from them.
    span = max(min(int(frac * p.size + 1e-7), p.size), 2)
    degenerate = counts >= span
    delta = 0.0 if degenerate.any() else 0.01 * float(np.ptp(p))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fit = np.asarray(lowess(y, p, frac=frac, it=0, delta=delta, return_sorted=True))
    xs, ys = fit[:, 0].astype(float), fit[:, 1].astype(float)
    if degenerate.any():
        tie_mean = np.bincount(inverse, weights=y) / counts
        at = np.searchsorted(ux, xs)
        ys = np.where(degenerate[at], tie_mean[at], ys)
    return xs, ys


def interpolate_ties_mean(x: FloatArray, y: FloatArray, xout: FloatArray) -> FloatArray:
    """Linear interpolation of (x, y) at ``xout`` after averaging ``y`` over tied ``x`` (R's
    ``approx(..., ties = mean)``); NaN outside the range of ``x``."""
    ux, inverse = np.unique(x, return_inverse=True)
    uy = np.bincount(inverse, weights=y) / np.bincount(inverse)
    if ux.size == 1:
        return np.where(xout == ux[0], uy[0], np.nan)
    return np.interp(xout, ux, uy, left=np.nan, right=np.nan)


def smooth_calibration(y: ArrayLike, p: ArrayLike) -> dict[str, Any]:
    """The lowess calibration curve on a grid of ``SMOOTH_POINTS`` risks between min(p) and
    max(p) (for plots) and ``eavg, emax, e90`` of |p - smooth(p)| over the observations."""
    yy, pp = outcome_and_risk(y, p)
    if np.ptp(pp) == 0:
        err = abs(float(pp[0]) - float(yy.mean()))
        return {
            "eavg": err,
            "emax": err,
            "e90": err,
            "smooth": {"predicted": [float(pp[0])], "observed": [float(yy.mean())]},
        }
    xs, ys = lowess_curve(pp, yy)
    er = np.abs(pp - interpolate_ties_mean(xs, ys, pp))
    grid = np.linspace(float(pp.min()), float(pp.max()), SMOOTH_POINTS)
    curve = interpolate_ties_mean(xs, ys, grid)
    return {
        "eavg": float(er.mean()),
        "emax": float(er.max()),
        "e90": float(np.quantile(er, 0.9)),
        "smooth": {"predicted": grid.tolist(), "observed": curve.tolist()},
    }


# --- groups ----------------------------------------------------------------------------------
def risk_groups(
    p: ArrayLike, g: int = 10, strategy: Strategy = "quantile"
) -> tuple[IntArray, FloatArray]:
    """Group index (0-based, consecutive over the non-empty groups) of each risk, and the
    breaks. ``quantile``: distinct type-7 quantiles at 0, 1/g, ..., 1 (``hoslem.test``);
    ``uniform``: g equal-width bins on [0, 1]. Intervals are closed on the right, the first
    also on the left (R's ``cut(..., include.lowest = TRUE)``)."""
    if g < 1:
        raise ValueError("the number of groups must be at least 1")
    pp = np.asarray(p, dtype=float).ravel()
    if strategy == "quantile":
        breaks = np.unique(np.quantile(pp, np.arange(g + 1) / g))
    elif strategy == "uniform":
        breaks = np.linspace(0.0, 1.0, g + 1)
    else:
        raise ValueError(f"unknown binning strategy {strategy!r}; use 'quantile' or 'uniform'")
    if breaks.size == 1:
        return np.zeros(pp.size, dtype=np.intp), breaks
    raw = np.clip(np.searchsorted(breaks, pp, side="left") - 1, 0, breaks.size - 2)
    _, index = np.unique(raw, return_inverse=True)  # drop empty intervals
    return index.astype(np.intp), breaks


def _group_rows(y: FloatArray, p: FloatArray, index: IntArray) -> list[dict[str, Any]]:
    rows = []
    for k in range(int(index.max()) + 1):
        sel = index == k
        rows.append(
            {
                "n": int(sel.sum()),
                "events": int(y[sel].sum()),
                "expected": float(p[sel].sum()),
                "mean_predicted": float(p[sel].mean()),
                "observed": float(y[sel].mean()),
                "lower": float(p[sel].min()),
                "upper": float(p[sel].max()),
            }
        )
    return rows


def hosmer_lemeshow(y: ArrayLike, p: ArrayLike, g: int = 10) -> dict[str, Any]:
    """Hosmer-Lemeshow test over ``g`` quantile groups of the risks (``hoslem.test``).

    ``statistic`` = sum over groups of (O1 - E1)^2/E1 + (O0 - E0)^2/E0, ``df`` = groups - 2,
    ``p`` from chi-square(df). ``groups`` lists each group's ``n, events, expected,
    mean_predicted, observed, lower, upper`` (smallest and largest risk in the group)."""
    yy, pp = outcome_and_risk(y, p)
    index, _ = risk_groups(pp, g, "quantile")
    rows = _group_rows(yy, pp, index)
    o1 = np.array([r["events"] for r in rows], dtype=float)
    e1 = np.array([r["expected"] for r in rows])
    n = np.array([r["n"] for r in rows], dtype=float)
    o0, e0 = n - o1, n - e1
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(e1 > 0, (o1 - e1) ** 2 / e1, np.where(o1 > 0, np.inf, 0.0))
        terms += np.where(e0 > 0, (o0 - e0) ** 2 / e0, np.where(o0 > 0, np.inf, 0.0))
    df = len(rows) - 2
    statistic = float(terms.sum())
    p_value = float(stats.chi2.sf(statistic, df)) if df > 0 else math.nan
    return {
        "statistic": statistic if df > 0 else math.nan,
        "df": df,
        "p": p_value,
        "g": g,
        "n_groups": len(rows),
        "groups": rows,
    }


def calibration(
    y: ArrayLike, p: ArrayLike, bins: int = 10, strategy: Strategy = "quantile"
) -> dict[str, Any]:
    """Calibration summary of predicted risks ``p`` against outcomes ``y``.

    Keys: ``n, events, mean_predicted, observed_rate, brier, slope, intercept, citl,
    n_excluded`` (risks 0/1 left out of the logistic fits), ``converged``, ``eavg, emax, e90``,
    ``strategy``, ``bins`` (one per non-empty bin: ``mean_predicted, observed, n, events,
    lower, upper``) and ``smooth`` (``predicted``/``observed`` lists: the lowess curve)."""
    yy, pp = outcome_and_risk(y, p)
    rec = logistic_recalibration(yy, pp)
    index, _ = risk_groups(pp, bins, strategy)
    rows = _group_rows(yy, pp, index)
    for r in rows:
        del r["expected"]
    out: dict[str, Any] = {
        "n": int(yy.size),
        "events": int(yy.sum()),
        "mean_predicted": float(pp.mean()),
        "observed_rate": float(yy.mean()),
        "brier": float(np.mean((pp - yy) ** 2)),
        "slope": rec["slope"],
        "intercept": rec["intercept"],
        "citl": rec["citl"],
        "n_excluded": rec["n_excluded"],
        "converged": rec["converged"],
    }
    out.update(smooth_calibration(yy, pp))
    out["strategy"] = strategy
    out["bins"] = rows
    return out


def as_probabilities(scores: Sequence[float] | FloatArray) -> bool:
    """Whether ``scores`` can be read as predicted risks (finite, in [0, 1])."""
    s = np.asarray(scores, dtype=float)
    return bool(s.size and np.isfinite(s).all() and (s >= 0).all() and (s <= 1).all())
