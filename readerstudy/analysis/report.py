"""The full reader-study report: ``build_report(reads, model_scores, options)`` -> ``Report``.

``Report`` holds plain dicts and DataFrames; ``Report.write(out_dir, formats)`` writes
report.json, CSV tables, report.md, report.html and the figures (PNG/SVG).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .agreement import reader_agreement
from .fom import MrmcDesignError
from .lmm import ReaderLmm, reader_lmm
from .mrmc import MrmcResult, delong_per_reader, mrmc_analysis
from .operating_points import parse_rule
from .performance import ModelPerformance, model_performance, table2
from .reads import (
    check_scores_match_reads,
    model_reads_from_scores,
    validate_reads,
    validate_scores,
)
from .summaries import group_summary, per_reader_metrics, pooled_counts
from .tables import table3

SCHEMA_VERSION = 1
FORMATS = ("json", "csv", "md", "html", "png", "svg")
EXTRA_MODELS = ("reader_case", "crossed", "crossed_rc", "glmm")


@dataclass
class ReportOptions:
    operating_point: str = "high_sensitivity"
    table2_points: tuple[str, ...] = ("high_sensitivity", "high_specificity")
    n_bootstrap: int = 1000
    seed: int = 2025
    stratified_bootstrap: bool = True
    level: float = 0.95
    backend: str = "statsmodels"
    lmm_mode: str = "pairwise"
    lmm_random: str = "case"
    lmm_engine: str = "profiled"
    extra_models: tuple[str, ...] = ()
    mrmc_cov: str = "jackknife"
    jackknife_cases: str = "truth_class"

    def __post_init__(self):
        parse_rule(self.operating_point)
        for p in self.table2_points:
            parse_rule(p)
        bad = [m for m in self.extra_models if m not in EXTRA_MODELS]
        if bad:
            raise ValueError(f"unknown extra model(s) {bad}; expected some of {EXTRA_MODELS}")
        if self.backend not in ("statsmodels", "r"):
            raise ValueError("backend must be 'statsmodels' or 'r'")


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, pd.DataFrame):
        return _jsonable(obj.to_dict(orient="records"))
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.bool_ | bool):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(obj) else None
    return obj


def software_versions(backend: str) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("readerstudy", "numpy", "pandas", "scipy", "statsmodels", "matplotlib"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:  # pragma: no cover
            out[pkg] = "not installed"
    if backend == "r":
        from .lmm_r import r_versions

        out.update(r_versions())
    return out


@dataclass
class Report:
    options: ReportOptions
    reads: pd.DataFrame
    meta: dict
    performance: ModelPerformance | None
    lmm: ReaderLmm | None
    lmm_extra: dict = field(default_factory=dict)
    mrmc: dict[str, MrmcResult] = field(default_factory=dict)
    per_reader: pd.DataFrame | None = None
    pooled: pd.DataFrame | None = None
    group: pd.DataFrame | None = None
    delong: pd.DataFrame | None = None
    agreement: dict = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def table2(self) -> pd.DataFrame | None:
        return table2(self.performance) if self.performance is not None else None

    @property
    def table3(self) -> pd.DataFrame | None:
        return table3(self.lmm) if self.lmm is not None else None

    @property
    def table3_glmm(self) -> pd.DataFrame | None:
        """Table 3 from the logistic GLMM, when it was requested (``extra_models``)."""
        glmm = self.lmm_extra.get("glmm")
        return table3(glmm) if glmm is not None and glmm.endpoints else None

    def summary(self) -> dict:
        """Headline numbers (small, JSON-ready), e.g. for a list view of analysis runs."""
        out: dict = {k: self.meta[k] for k in ("n_reads", "n_readers", "n_cases", "conditions")}
        keys = ("estimate", "ci_low", "ci_high", "p")
        if self.performance is not None:
            auc = self.performance.to_dict()["auc"]
            out["model_auc"] = {k: auc[k] for k in ("estimate", "ci_low", "ci_high")}
        if self.lmm is not None:
            for ep, d in self.lmm.endpoints.items():
                for name, c in d["contrasts"].items():
                    out.setdefault("lmm", {}).setdefault(ep, {})[name] = {
                        k: getattr(c, k) for k in keys
                    }
        for fom, res in self.mrmc.items():
            r = res.to_dict()["or_rrrc"]
            out.setdefault("mrmc_or_rrrc", {})[fom] = {
                k: r[k] for k in ("diff", "ci_low", "ci_high", "p", "F", "ddf")
            }
        out["skipped"] = sorted(self.skipped)
        return _jsonable(out)

    def to_dict(self) -> dict:
        out = {
            "meta": self.meta,
            "model_performance": self.performance.to_dict() if self.performance else None,
            "lmm": self.lmm.to_dict() if self.lmm else None,
            "lmm_extra": {k: v.to_dict() for k, v in self.lmm_extra.items()},
            "mrmc": {k: v.to_dict() for k, v in self.mrmc.items()},
            "delong_per_reader": self.delong,
            "per_reader": self.per_reader,
            "pooled_counts": self.pooled,
            "reader_summary": self.group,
            "agreement": self.agreement,
            "table2": self.table2,
            "table3": self.table3,
            "table3_glmm": self.table3_glmm,
            "skipped": self.skipped,
        }
        return _jsonable(out)

    def write(self, out_dir: str | Path, formats=FORMATS) -> list[Path]:
        from .render import write_report

        formats = tuple(formats)
        bad = [f for f in formats if f not in FORMATS]
        if bad:
            raise ValueError(f"unknown format(s) {bad}; expected some of {FORMATS}")
        return write_report(self, Path(out_dir), formats)


def build_report(
    reads_df: pd.DataFrame,
    model_scores_df: pd.DataFrame | None = None,
    options: ReportOptions | None = None,
    *,
    context: dict | None = None,
    skipped: dict[str, str] | None = None,
) -> Report:
    """``context`` describes the study (title, design, model version...) for the report's
    header (``meta.study``); ``skipped`` carries what the caller already left out and why."""
    opt = options or ReportOptions()
    _check_backend(opt)
    reads = validate_reads(reads_df)
    notes: list[str] = []
    skipped = dict(skipped or {})
    perf = None
    if model_scores_df is not None:
        reads, perf = _model_section(reads, model_scores_df, opt, notes)
    conditions = [c for c in ("unaided", "aided", "model") if c in set(reads["condition"])]
    lmm = _lmm_section(reads, opt, skipped)
    extra = _extra_models_section(reads, opt, skipped)
    mrmc, delong = _mrmc_section(reads, conditions, opt, skipped)
    per_reader = per_reader_metrics(reads)
    return Report(
        options=opt,
        reads=reads,
        meta=_meta(reads, opt, context, conditions, notes),
        performance=perf,
        lmm=lmm,
        lmm_extra=extra,
        mrmc=mrmc,
        per_reader=per_reader,
        pooled=pooled_counts(reads),
        group=group_summary(per_reader),
        delong=delong,
        agreement={c: reader_agreement(reads, c) for c in conditions if c != "model"},
        skipped=skipped,
    )


def _check_backend(opt: ReportOptions) -> None:
    if opt.backend == "r":
        from .lmm_r import r_available

        ok, why = r_available()
        if not ok:
            raise ValueError(f"backend 'r' requested but R is not usable: {why}")


def _model_section(
    reads: pd.DataFrame, model_scores_df: pd.DataFrame, opt: ReportOptions, notes: list[str]
) -> tuple[pd.DataFrame, ModelPerformance]:
    """The model's performance (Table 2); model reads derived from its scores when the read
    table has none. Returns (reads, performance)."""
    scores = validate_scores(model_scores_df)
    check_scores_match_reads(reads, scores)
    rules = tuple(dict.fromkeys((*opt.table2_points, opt.operating_point)))
    perf = model_performance(
        scores["truth"],
        scores["score"],
        rules,
        opt.n_bootstrap,
        opt.seed,
        opt.stratified_bootstrap,
        opt.level,
    )
    if (reads["condition"] == "model").any():
        notes.append("model reads taken from the read table; scores used for Table 2 only")
        return reads, perf
    op = perf.points[opt.operating_point if opt.operating_point in perf.points else rules[-1]]
    in_reads = scores[scores["case"].isin(set(reads["case"]))]
    reads = pd.concat([reads, model_reads_from_scores(in_reads, op.threshold)], ignore_index=True)
    notes.append(
        f"model reads derived from scores at {op.rule} "
        f"(threshold {op.threshold:.6g}) on {len(in_reads)} read cases"
    )
    return reads, perf


def _lmm_section(reads: pd.DataFrame, opt: ReportOptions, skipped: dict) -> ReaderLmm | None:
    """The main reader LMM (Table 3); None when it could not be fitted for any endpoint."""
    try:
        lmm = reader_lmm(
            reads, opt.lmm_mode, opt.lmm_random, opt.backend, level=opt.level, engine=opt.lmm_engine
        )
    except (ValueError, RuntimeError) as exc:
        skipped["lmm"] = str(exc)
        return None
    skipped.update({f"lmm.{k}": v for k, v in lmm.skipped.items()})
    return lmm if lmm.endpoints else None


def _extra_models_section(reads: pd.DataFrame, opt: ReportOptions, skipped: dict) -> dict:
    """The sensitivity-analysis models of ``extra_models``, by name."""
    extra = {}
    for name in opt.extra_models:
        try:
            if name == "glmm":
                extra[name] = reader_lmm(
                    reads, opt.lmm_mode, opt.lmm_random, "r", family="binomial", level=opt.level
                )
            else:
                extra[name] = reader_lmm(
                    reads, opt.lmm_mode, name, opt.backend, level=opt.level, engine=opt.lmm_engine
                )
        except (ValueError, RuntimeError) as exc:
            skipped[f"lmm_extra.{name}"] = str(exc)
            continue
        skipped.update({f"lmm_extra.{name}.{k}": v for k, v in extra[name].skipped.items()})
    return extra


def _mrmc_section(
    reads: pd.DataFrame, conditions: list[str], opt: ReportOptions, skipped: dict
) -> tuple[dict[str, MrmcResult], pd.DataFrame | None]:
    """Obuchowski-Rockette MRMC per figure of merit, and per-reader DeLong AUC tests."""
    mrmc: dict[str, MrmcResult] = {}
    if not {"unaided", "aided"} <= set(conditions):
        skipped["mrmc"] = "needs both 'unaided' and 'aided' reads"
        return mrmc, None
    reader_reads = reads[reads["condition"].isin(["unaided", "aided"])]
    for fom in ("auc", "sensitivity", "specificity", "accuracy"):
        if fom == "auc" and reader_reads["rating"].isna().any():
            skipped["mrmc.auc"] = "no 'rating' for every unaided/aided read"
            continue
        try:
            mrmc[fom] = mrmc_analysis(
                reads, fom, ("unaided", "aided"), opt.mrmc_cov, opt.jackknife_cases, opt.level
            )
        except (MrmcDesignError, ValueError) as exc:
            skipped[f"mrmc.{fom}"] = str(exc)
    delong = delong_per_reader(reads, ("unaided", "aided"), opt.level) if "auc" in mrmc else None
    return mrmc, delong


def _meta(
    reads: pd.DataFrame,
    opt: ReportOptions,
    context: dict | None,
    conditions: list[str],
    notes: list[str],
) -> dict:
    """The report's header: study, options, software and the counts of the read table."""
    return {
        "schema_version": SCHEMA_VERSION,
        "study": dict(context or {}),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "options": _jsonable(asdict(opt)),
        "software": software_versions(opt.backend),
        "n_reads": int(len(reads)),
        "n_readers": int(reads.loc[reads["condition"] != "model", "reader"].nunique()),
        "n_cases": int(reads["case"].nunique()),
        "n_positive_cases": int(reads.drop_duplicates("case")["truth"].sum()),
        "conditions": conditions,
        "has_ratings": bool(reads["rating"].notna().any()),
        "notes": notes,
    }


def dumps(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, allow_nan=False)
