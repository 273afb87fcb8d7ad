"""Calibration, Hosmer-Lemeshow and decision curves of the model score table (SCORES.csv) for
the report: ``model_performance.<model>.calibration``, ``model_performance.<model>.
hosmer_lemeshow`` and the top-level ``decision_curve`` (docs/analysis.md).

SCORES.csv: ``case, truth, score`` and optionally ``model`` (several models, one row per model x
case; without it the single model is named ``model``) and ``endpoint`` (then every key above is
nested one level deeper, by endpoint: ``model_performance.<endpoint>.<model>...`` and
``decision_curve.<endpoint>``). Scores must be predicted risks in [0, 1]; a model whose scores are
not is listed in ``skipped``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .calibration import as_probabilities, calibration, hosmer_lemeshow
from .decision_curve import decision_curve
from .reads import (
    SCORE_COLUMNS,
    ReadsValidationError,
    _binary,
    _missing_columns,
    _rows,
    _text,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DEFAULT_MODEL = "model"
_MAX_LISTED = 5


def validate_model_scores(df: pd.DataFrame) -> pd.DataFrame:
    """Validate a score table with optional ``model``/``endpoint`` columns; returns
    ``endpoint, model, case, truth, score`` (``endpoint`` empty when absent). Errors as
    ``validate_scores``: rows are 1-based data rows."""
    _missing_columns(df, SCORE_COLUMNS, "scores")
    if len(df) == 0:
        raise ReadsValidationError(["the table has no rows"], "scores")
    df = df.reset_index(drop=True)
    errors: list[str] = []
    case = _text(df["case"], "case", errors)
    model = (
        _text(df["model"], "model", errors)
        if "model" in df.columns
        else pd.Series(DEFAULT_MODEL, index=df.index)
    )
    endpoint = (
        _text(df["endpoint"], "endpoint", errors)
        if "endpoint" in df.columns
        else pd.Series("", index=df.index)
    )
    truth = _binary(df["truth"], "truth", errors)
    score = pd.to_numeric(df["score"], errors="coerce").astype(float)
    bad = ~np.isfinite(score.to_numpy())
    if bad.any():
        errors.append(f"column 'score' is missing or not a finite number in {_rows(bad)}")
    if errors:
        raise ReadsValidationError(errors, "scores")
    out = pd.DataFrame(
        {"endpoint": endpoint, "model": model, "case": case, "truth": truth, "score": score}
    )
    dup = out.duplicated(["endpoint", "model", "case"], keep=False)
    if dup.any():
        errors.append(f"duplicate case ids in {_rows(dup)} (one score per case and model expected)")
    per_case = out.groupby(["endpoint", "case"])["truth"].nunique()
    differ = per_case[per_case > 1]
    if len(differ):
        cases = ", ".join(str(c) for _, c in differ.index[:_MAX_LISTED])
        errors.append(f"case(s) {cases} have different 'truth' for different models")
    if errors:
        raise ReadsValidationError(errors, "scores")
    return out


def primary_model_scores(df: pd.DataFrame) -> pd.DataFrame:
    """The rows of the first model in the table (all rows without a ``model`` column), with the
    ``model`` column dropped: the scores Table 2 and the derived model reads use."""
    if "model" not in df.columns:
        return df
    names = df["model"].astype(str).str.strip()
    first = names.iloc[0] if len(names) else ""
    return df[names == first].drop(columns="model").reset_index(drop=True)


def table2_scores(df: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """``primary_model_scores(df)``; when the table holds several models, says in ``notes``
    which one Table 2 and the derived model reads use."""
    if "model" not in df.columns:
        return df
    names = list(dict.fromkeys(df["model"].astype(str).str.strip()))
    if len(names) > 1:
        notes.append(
            f"Table 2 and the model reads use model {names[0]!r} (first of {len(names)} in the "
            "score table); calibration and decision curves cover every model"
        )
    return primary_model_scores(df)


def _model_entry(sub: pd.DataFrame, bins: int, g: int) -> tuple[dict[str, Any], str | None]:
    y = sub["truth"].to_numpy(dtype=float)
    p = sub["score"].to_numpy(dtype=float)
    if not as_probabilities(p):
        return {}, "scores are not predicted risks in [0, 1]"
    if y.min() == y.max():
        return {}, "'truth' must contain both 0 and 1"
    return {
        "calibration": calibration(y, p, bins),
        "hosmer_lemeshow": hosmer_lemeshow(y, p, g),
    }, None


def _decision_curve(
    frame: pd.DataFrame, models: Sequence[str], thresholds: Sequence[float] | None
) -> tuple[dict[str, Any] | None, str | None]:
    if not models:
        return None, "no model with predicted risks in [0, 1] and both outcomes"
    wide = frame[frame["model"].isin(models)].pivot(index="case", columns="model", values="score")
    wide = wide.dropna()
    if wide.empty:
        return None, "no case scored by every model"
    truth = frame.drop_duplicates("case").set_index("case")["truth"].reindex(wide.index)
    risks = {m: wide[m].to_numpy(dtype=float) for m in models}
    dc = decision_curve(truth.to_numpy(dtype=float), risks, thresholds)
    dropped = int(frame["case"].nunique() - len(wide))
    dc["cases_not_scored_by_every_model"] = dropped
    return dc, None


def _endpoint_section(
    frame: pd.DataFrame, bins: int, g: int, thresholds: Sequence[float] | None, prefix: str
) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, str]]:
    perf: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    usable = []
    for model, sub in frame.groupby("model", sort=False):
        entry, why = _model_entry(sub, bins, g)
        if why is not None:
            skipped[f"model_performance.{prefix}{model}.calibration"] = why
            continue
        perf[str(model)] = entry
        usable.append(str(model))
    dc, why = _decision_curve(frame, usable, thresholds)
    if why is not None:
        skipped[f"decision_curve{'.' + prefix[:-1] if prefix else ''}"] = why
    return perf, dc, skipped


def model_calibration_section(
    scores_frame: pd.DataFrame,
    bins: int = 10,
    g: int = 10,
    thresholds: Sequence[float] | None = None,
) -> dict[str, Any]:
    """Calibration and decision curves of every model (and endpoint) of a score table.

    Returns ``{"model_performance": {model: {"calibration", "hosmer_lemeshow"}},
    "decision_curve": {...}, "skipped": {key: reason}, "by_endpoint": bool}``; with an
    ``endpoint`` column both are keyed by endpoint first. ``decision_curve`` is ``None`` when no
    model qualifies."""
    frame = validate_model_scores(scores_frame)
    by_endpoint = "endpoint" in scores_frame.columns
    perf: dict[str, Any] = {}
    curves: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    for endpoint, sub in frame.groupby("endpoint", sort=False):
        prefix = f"{endpoint}." if by_endpoint else ""
        p, dc, sk = _endpoint_section(sub, bins, g, thresholds, prefix)
        skipped.update(sk)
        if by_endpoint:
            perf[str(endpoint)] = p
            if dc is not None:
                curves[str(endpoint)] = dc
        else:
            perf, curves = p, dc or {}
    return {
        "model_performance": perf,
        "decision_curve": curves or None,
        "skipped": skipped,
        "by_endpoint": by_endpoint,
    }


def merge_model_performance(
    base: Mapping[str, Any] | None, section: Mapping[str, Any]
) -> dict[str, Any] | None:
    """``base`` (the report's ``model_performance``, may be None) with the section's
    per-model entries added (nested dicts are merged, existing keys win)."""
    extra = section.get("model_performance") or {}
    if base is None and not extra:
        return None
    out: dict[str, Any] = dict(base or {})
    for key, value in extra.items():
        if isinstance(out.get(key), dict) and isinstance(value, Mapping):
            out[key] = {**value, **out[key]}
        else:
            out.setdefault(key, value)
    return out


# --- figures ---------------------------------------------------------------------------------
def _num(value: Any) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.2f}"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name)) or "endpoint"


_COLORS = ("#d62728", "#1f77b4", "#2ca02c", "#8c3fbf", "#ff7f0e", "#17becf", "#7f7f7f")


def calibration_figure(
    models: Mapping[str, Mapping[str, Any]], title: str = "Calibration"
) -> Figure:
    """Observed vs predicted risk: the binned points and the lowess curve of each model
    (``models``: {name: {"calibration": ...}}), with the ideal diagonal."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.6, 5.4))
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.1, top=0.93)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], ls=":", color="0.5", lw=0.9, label="Ideal")
    for i, (name, entry) in enumerate(models.items()):
        cal = entry["calibration"]
        color = _COLORS[i % len(_COLORS)]
        smooth = cal["smooth"]
        label = f"{name} (slope {_num(cal['slope'])}, intercept {_num(cal['intercept'])})"
        ax.plot(smooth["predicted"], smooth["observed"], color=color, lw=1.5, label=label)
        ax.scatter(
            [b["mean_predicted"] for b in cal["bins"]],
            [b["observed"] for b in cal["bins"]],
            color=color,
            s=18,
            zorder=3,
        )
    ax.set(
        xlim=(-0.02, 1.02),
        ylim=(-0.02, 1.02),
        xlabel="Predicted risk",
        ylabel="Observed proportion",
        title=title,
        aspect="equal",
    )
    ax.legend(loc="upper left", fontsize=7, frameon=False)
    return fig


def decision_curve_figure(dc: Mapping[str, Any], title: str = "Decision curve") -> Figure:
    """Net benefit against threshold probability for each model, treat all and treat none."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.2, 4.6))
    fig.subplots_adjust(left=0.14, right=0.97, bottom=0.12, top=0.92)
    ax = fig.add_subplot()
    t = dc["thresholds"]
    ax.plot(t, dc["treat_all"], color="0.55", lw=1.2, label="Treat all")
    ax.plot(t, dc["treat_none"], color="k", lw=1.2, label="Treat none")
    for i, (name, nb) in enumerate(dc["models"].items()):
        ax.plot(t, nb, color=_COLORS[i % len(_COLORS)], lw=1.5, label=str(name))
    prev = float(dc["prevalence"])
    ax.set(
        xlim=(0, 1),
        ylim=(-0.05, max(prev * 1.15, 0.05)),
        xlabel="Threshold probability",
        ylabel="Net benefit",
        title=title,
    )
    ax.legend(loc="upper right", fontsize=7, frameon=False)
    return fig


def write_calibration_figures(
    section: Mapping[str, Any], out_dir: str | Path, formats: Sequence[str] = ("png", "svg")
) -> list[Path]:
    """``calibration.<fmt>`` and ``decision_curve.<fmt>`` (per endpoint:
    ``calibration_<endpoint>.<fmt>``...) for the image formats among ``formats``."""
    from .plots import save

    fmts = tuple(f for f in formats if f in ("png", "svg"))
    out = Path(out_dir)
    if not fmts:
        return []
    perf = section.get("model_performance") or {}
    curves = section.get("decision_curve") or {}
    groups = (
        [(f"_{_safe(k)}", k, perf[k], curves.get(k)) for k in perf]
        if section.get("by_endpoint")
        else [("", "", perf, curves or None)]
    )
    paths: list[Path] = []
    for suffix, endpoint, models, dc in groups:
        title = f" ({endpoint})" if endpoint else ""
        if models:
            paths += save(
                calibration_figure(models, "Calibration" + title),
                out / f"calibration{suffix}",
                fmts,
            )
        if dc:
            paths += save(
                decision_curve_figure(dc, "Decision curve" + title),
                out / f"decision_curve{suffix}",
                fmts,
            )
    return paths
