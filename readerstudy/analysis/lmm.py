"""Reader-study mixed models, as in seed 000 (Table 3), with two interchangeable backends.

``correct ~ condition + (1 | case)`` fitted by REML on all reads (accuracy), on positive-case
reads (sensitivity) and on negative-case reads (specificity); the model enters as a pseudo-reader
(condition ``model``). Satterthwaite denominator df; estimated marginal means and unadjusted
contrasts with t-based CIs (emmeans with ``lmer.df = "satterthwaite"``).

Backends: ``statsmodels`` (pure Python: exact profiled REML in NumPy by default, or statsmodels
``MixedLM`` with ``engine="mixedlm"``; Satterthwaite df computed here the way lmerTest does) and
``r`` (lme4 / lmerTest / emmeans via rpy2). ``family="binomial"`` (logistic GLMM, R ``glmer``)
needs the R backend.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .conditions import (
    MODEL,
    contrast_pairs,
    ordered_conditions,
    present_conditions,
    resolve_reference,
)
from .lmm_python import CrossedInterceptsModel, RandomTerm, RemlFit, blas_single_thread
from .reads import ensure_valid
from .satterthwaite import Satterthwaite

ENDPOINTS = {"accuracy": None, "sensitivity": 1, "specificity": 0}
RANDOM_PRESETS: dict[str, tuple[str, ...]] = {
    "case": ("case",),
    "reader_case": ("reader", "case"),
    "crossed": ("reader", "reader:condition", "case", "case:condition"),
    "crossed_rc": ("reader", "reader:condition", "case", "case:condition", "reader:case"),
}
BACKENDS = ("statsmodels", "r")
REFERENCE = "unaided"


@dataclass
class Inference:
    estimate: float
    se: float
    df: float
    t: float
    p: float
    ci_low: float
    ci_high: float

    def to_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


@dataclass
class LmmFit:
    endpoint: str
    conditions: list[str]
    random_terms: tuple[str, ...]
    family: str
    backend: str
    formula: str
    n_obs: int
    n_cases: int
    n_readers: int
    variance_components: dict[str, float]
    emmeans: dict[str, Inference]
    contrasts: dict[str, Inference]
    converged: bool
    warnings: list[str] = field(default_factory=list)
    scale: str = "response"  # binomial: emmeans are probabilities, contrasts odds ratios

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k not in ("emmeans", "contrasts")}
        out["random_terms"] = list(self.random_terms)
        out["emmeans"] = {k: v.to_dict() for k, v in self.emmeans.items()}
        out["contrasts"] = {k: v.to_dict() for k, v in self.contrasts.items()}
        return out


def resolve_random(random: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    if isinstance(random, str):
        if random in RANDOM_PRESETS:
            return RANDOM_PRESETS[random]
        terms = tuple(t.strip() for t in random.replace("+", ",").split(",") if t.strip())
    else:
        terms = tuple(random)
    allowed = {"case", "reader", "reader:condition", "case:condition", "reader:case"}
    bad = [t for t in terms if t not in allowed]
    if not terms or bad:
        raise ValueError(
            f"unknown random term(s) {bad or terms}; allowed: {sorted(allowed)} "
            f"or a preset {sorted(RANDOM_PRESETS)}"
        )
    return terms


def formula(random_terms: tuple[str, ...], response: str = "correct") -> str:
    return f"{response} ~ condition + " + " + ".join(f"(1 | {t})" for t in random_terms)


def endpoint_data(reads: pd.DataFrame, endpoint: str, conditions: list[str]) -> pd.DataFrame:
    if endpoint not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {list(ENDPOINTS)}")
    sub = reads[reads["condition"].isin(conditions)]
    truth = ENDPOINTS[endpoint]
    if truth is not None:
        sub = sub[sub["truth"] == truth]
    present = set(sub["condition"])
    missing = [c for c in conditions if c not in present]
    if missing:
        raise ValueError(f"{endpoint}: no reads in condition(s) {missing}")
    return sub


def _codes(sub: pd.DataFrame, term: str) -> tuple[np.ndarray, int]:
    parts = term.split(":")
    if len(parts) == 1:  # the same codes as the text key below, without building it
        codes, uniques = pd.factorize(sub[term], sort=False)
        return codes.astype(np.int64), len(uniques)
    key = sub[parts[0]].astype(str)
    for p in parts[1:]:
        key = key + "\x1f" + sub[p].astype(str)
    codes, uniques = pd.factorize(key, sort=False)
    return codes.astype(np.int64), len(uniques)


def _inference(est: float, se: float, df: float, level: float) -> Inference:
    tval = est / se if se > 0 else np.nan
    q = stats.t.ppf(0.5 + level / 2, df)
    return Inference(
        est, se, df, tval, float(2 * stats.t.sf(abs(tval), df)), est - q * se, est + q * se
    )


def _contrast_vectors(levels: list[str]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    p = len(levels)
    emm: dict[str, np.ndarray] = {}
    for i, lev in enumerate(levels):
        v = np.zeros(p)
        v[0] = 1.0
        if i:
            v[i] = 1.0
        emm[lev] = v
    con: dict[str, np.ndarray] = {}
    for i in range(p):
        for j in range(i + 1, p):
            con[f"{levels[j]} - {levels[i]}"] = emm[levels[j]] - emm[levels[i]]
    return emm, con


def python_model(
    sub: pd.DataFrame, levels: list[str], terms: tuple[str, ...]
) -> CrossedInterceptsModel:
    """The NumPy REML model of ``correct ~ condition + random terms`` for one endpoint subset."""
    y = sub["correct"].to_numpy(dtype=float)
    cond = pd.Categorical(sub["condition"], categories=levels).codes
    X = np.zeros((len(sub), len(levels)))
    X[:, 0] = 1.0
    for i in range(1, len(levels)):
        X[:, i] = cond == i
    rterms = [RandomTerm(t, *_codes(sub, t)) for t in terms]
    return CrossedInterceptsModel(y, X, rterms, block=_codes(sub, "case")[0])


def summarize_python_fit(
    model: CrossedInterceptsModel,
    fit: RemlFit,
    levels: list[str],
    terms: tuple[str, ...],
    level: float,
) -> tuple[dict[str, Inference], dict[str, Inference], dict[str, float], list[str]]:
    """EMMs and contrasts with Satterthwaite df at a fit's (theta, sigma)."""
    sat = Satterthwaite(model.deviance, model.vcov_beta, np.r_[fit.theta, fit.sigma])
    emm_l, con_l = _contrast_vectors(levels)

    def infer(vec: np.ndarray) -> Inference:
        return _inference(
            float(vec @ fit.beta), float(np.sqrt(vec @ fit.vcov_beta @ vec)), sat.df(vec), level
        )

    vc = {t: float((th * fit.sigma) ** 2) for t, th in zip(terms, fit.theta, strict=True)}
    vc["Residual"] = float(fit.sigma**2)
    return (
        {k: infer(v) for k, v in emm_l.items()},
        {k: infer(v) for k, v in con_l.items()},
        vc,
        list(sat.warnings),
    )


def _check_variation(sub: pd.DataFrame) -> None:
    spread = sub.groupby("condition")["correct"].agg(["min", "max"])
    if (spread["min"] == spread["max"]).all():
        raise ValueError(
            "no within-condition variation (every read in each condition has the same outcome,"
            f" e.g. {spread['min'].to_dict()}); the mixed model is undefined"
        )


# (emmeans, contrasts, variance components, converged, warnings) of one fit
_Fitted = tuple[dict[str, Inference], dict[str, Inference], dict[str, float], bool, list[str]]


def _fit_python(
    sub: pd.DataFrame, levels: list[str], terms: tuple[str, ...], level: float, engine: str
) -> _Fitted:
    _check_variation(sub)
    model = python_model(sub, levels, terms)
    warnings: list[str] = []
    if engine == "mixedlm":
        from .lmm_statsmodels import fit_mixedlm

        theta, converged, msgs = fit_mixedlm(model.y, model.X, model.terms)
        fit = model.at(theta)
        fit.converged = converged
        warnings += msgs
    elif engine == "profiled":
        fit = model.fit()
    else:
        raise ValueError("engine must be 'profiled' or 'mixedlm'")
    emm, con, vc, sat_warnings = summarize_python_fit(model, fit, levels, terms, level)
    warnings += sat_warnings
    if not fit.converged:
        warnings.append(f"optimiser did not report convergence: {fit.message}")
    if np.any(fit.theta < 1e-4):  # lme4::isSingular's default tolerance
        warnings.append("boundary (singular) fit: a variance component is estimated as ~0")
    return emm, con, vc, bool(fit.converged), warnings


def _fit_r(
    sub: pd.DataFrame, levels: list[str], terms: tuple[str, ...], family: str, level: float
) -> _Fitted:
    from .lmm_r import fit_r

    _check_variation(sub)
    cond = pd.Categorical(sub["condition"], categories=levels).codes
    res = fit_r(
        sub["correct"].to_numpy(float),
        cond,
        levels,
        _codes(sub, "case")[0],
        _codes(sub, "reader")[0],
        terms,
        family,
        level,
    )

    def rows(tab: dict[str, list[Any]], key: str) -> dict[str, Inference]:
        n = len(tab[key])
        est_key = next(
            k for k in ("emmean", "prob", "estimate", "odds.ratio", "response") if k in tab
        )
        lo = next(k for k in ("lower.CL", "asymp.LCL") if k in tab)
        hi = next(k for k in ("upper.CL", "asymp.UCL") if k in tab)
        stat = next(k for k in ("t.ratio", "z.ratio") if k in tab)
        out = {}
        for i in range(n):
            out[str(tab[key][i])] = Inference(
                float(tab[est_key][i]),
                float(tab["SE"][i]),
                float(tab["df"][i]),
                float(tab[stat][i]),
                float(tab["p.value"][i]),
                float(tab[lo][i]),
                float(tab[hi][i]),
            )
        return out

    emm = rows(res["emm"], "condition")
    # labels as emmeans writes them: "aided - unaided" (binomial: odds ratio "aided / unaided")
    con = rows(res["con"], "contrast")
    bad = [m for m in res["messages"] if "converge" in m.lower()]
    return (
        emm,
        con,
        dict(res["vc"]),
        not bad,
        res["messages"] + (["boundary (singular) fit"] if res["singular"] else []),
    )


def fit_lmm(
    reads: pd.DataFrame,
    endpoint: str,
    conditions: list[str] | tuple[str, ...] = ("unaided", "aided"),
    random: str | tuple[str, ...] = "case",
    backend: str = "statsmodels",
    family: str = "gaussian",
    level: float = 0.95,
    engine: str = "profiled",
) -> LmmFit:
    """Fit one endpoint on the given conditions (first = reference level)."""
    levels = list(conditions)
    terms = resolve_random(random)
    _check_fit_args(backend, family)
    sub = endpoint_data(ensure_valid(reads), endpoint, levels)
    return _fit_subset(sub, endpoint, levels, terms, backend, family, level, engine)


def _check_fit_args(backend: str, family: str) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
    if family not in ("gaussian", "binomial"):
        raise ValueError("family must be 'gaussian' or 'binomial'")
    if family == "binomial" and backend != "r":
        raise ValueError("the logistic GLMM (family='binomial') needs backend='r' (lme4::glmer)")


def _endpoint_subset(
    reads: pd.DataFrame,
    cond_codes: np.ndarray,
    code_of: dict[str, int],
    endpoint: str,
    conditions: list[str],
) -> pd.DataFrame:
    """``endpoint_data`` from precomputed condition codes (one pass over the conditions of a
    large read table instead of one per fit)."""
    if endpoint not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {list(ENDPOINTS)}")
    mask = np.isin(cond_codes, [code_of[c] for c in conditions if c in code_of])
    truth = ENDPOINTS[endpoint]
    if truth is not None:
        mask &= reads["truth"].to_numpy() == truth
    present = set(np.unique(cond_codes[mask]).tolist())
    missing = [c for c in conditions if code_of.get(c) not in present]
    if missing:
        raise ValueError(f"{endpoint}: no reads in condition(s) {missing}")
    return reads[mask]


def _fit_subset(
    sub: pd.DataFrame,
    endpoint: str,
    levels: list[str],
    terms: tuple[str, ...],
    backend: str,
    family: str,
    level: float,
    engine: str,
) -> LmmFit:
    """Fit one endpoint's reads ``sub`` (already restricted to the conditions ``levels``)."""
    if backend == "r":
        emm, con, vc, ok, warn = _fit_r(sub, levels, terms, family, level)
    else:
        with blas_single_thread():
            emm, con, vc, ok, warn = _fit_python(sub, levels, terms, level, engine)
    return LmmFit(
        endpoint=endpoint,
        conditions=levels,
        random_terms=terms,
        family=family,
        backend=backend,
        formula=formula(terms) if family == "gaussian" else formula(terms) + " [logit GLMM]",
        n_obs=len(sub),
        n_cases=sub["case"].nunique(),
        n_readers=sub["reader"].nunique(),
        variance_components=vc,
        emmeans=emm,
        contrasts=con,
        converged=ok,
        warnings=warn,
        scale="response" if family == "gaussian" else "probability / odds ratio",
    )


@dataclass
class ReaderLmm:
    """All endpoint fits of a study: ``endpoints[endpoint]`` holds contrasts, emmeans, fits."""

    mode: str
    random_terms: tuple[str, ...]
    family: str
    backend: str
    endpoints: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # "<endpoint>.<fit>": reason
    reference: str = REFERENCE
    contrasts: str = "reference"  # pairwise fits: against the reference, or every pair

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "mode": self.mode,
            "random_terms": list(self.random_terms),
            "family": self.family,
            "backend": self.backend,
        }
        for ep, d in self.endpoints.items():
            out[ep] = {
                "contrasts": {k: v.to_dict() for k, v in d["contrasts"].items()},
                "emmeans": {k: v.to_dict() for k, v in d["emmeans"].items()},
                "fits": {k: f.to_dict() for k, f in d["fits"].items()},
            }
        return out


def reader_lmm(
    reads: pd.DataFrame,
    mode: str = "pairwise",
    random: str | tuple[str, ...] = "case",
    backend: str = "statsmodels",
    family: str = "gaussian",
    endpoints: tuple[str, ...] = ("accuracy", "sensitivity", "specificity"),
    level: float = 0.95,
    engine: str = "profiled",
    reference: str | None = None,
    contrasts: str = "reference",
) -> ReaderLmm:
    """Seed-000 analysis. ``pairwise``: each condition fitted against the reference (default
    ``unaided``) separately, e.g. aided vs unaided and model vs unaided (emmeans for unaided/aided
    from the first, for model from the second); with ``contrasts="pairwise"`` every pair of
    conditions gets its own fit. ``joint``: one fit on all conditions (every pairwise contrast).
    Models with reader random effects leave out the model's reads (the model is a single fixed
    pseudo-reader, not a draw from the reader population)."""
    if mode not in ("pairwise", "joint"):
        raise ValueError("mode must be 'pairwise' or 'joint'")
    terms = resolve_random(random)
    reads = ensure_valid(reads)
    present = present_conditions(reads)
    ref = resolve_reference(present, reference)
    has_reader_terms = any("reader" in t for t in terms)
    ordered = [c for c in ordered_conditions(present, ref) if not (c == MODEL and has_reader_terms)]
    if len(ordered) < 2:
        raise ValueError(f"the LMM analysis needs reads in another condition besides {ref!r}")
    out = ReaderLmm(mode, terms, family, backend, reference=ref, contrasts=contrasts)
    cond_codes, cond_names = pd.factorize(reads["condition"])
    code_of = {str(c): i for i, c in enumerate(cond_names)}
    groups = (
        {"joint": ordered}
        if mode == "joint"
        else {f"{b}_vs_{a}": [a, b] for a, b in contrast_pairs(ordered, contrasts)}
    )
    for ep in endpoints:
        fits: dict[str, LmmFit] = {}
        for key, conditions in groups.items():
            try:
                _check_fit_args(backend, family)
                sub = _endpoint_subset(reads, cond_codes, code_of, ep, list(conditions))
                fits[key] = _fit_subset(
                    sub, ep, list(conditions), terms, backend, family, level, engine
                )
            except (ValueError, RuntimeError, np.linalg.LinAlgError) as exc:
                out.skipped[f"{ep}.{key}"] = str(exc)
        if not fits:
            continue
        ep_contrasts: dict[str, Inference] = {}  # not ``contrasts``: that is the argument
        emmeans: dict[str, Inference] = {}
        for f in fits.values():  # the first fit (aided vs unaided) provides the unaided EMM
            ep_contrasts.update(f.contrasts)
            for cond, e in f.emmeans.items():
                emmeans.setdefault(cond, e)
        out.endpoints[ep] = {"contrasts": ep_contrasts, "emmeans": emmeans, "fits": fits}
    return out
