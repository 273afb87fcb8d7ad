"""The full reader-study report: ``build_report(reads, model_scores, options)`` -> ``Report``.

``Report`` holds plain dicts and DataFrames; ``Report.write(out_dir, formats)`` writes
report.json, CSV tables, report.md, report.html and the figures (PNG/SVG).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import platform
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .conditions import (
    CONTRAST_MODES,
    MODEL,
    ordered_conditions,
    present_conditions,
    resolve_reference,
)
from .endpoint_report import EndpointResult, ScorePerformance, analyse_endpoint, evaluate_scores
from .lmm import ReaderLmm
from .log_loss import log_loss_section
from .model_calibration import (
    merge_model_performance,
    model_calibration_section,
    table2_scores,
)
from .mrmc import MrmcResult
from .operating_points import parse_rule
from .performance import ModelPerformance, table2
from .reads import validate_scores
from .report_baseline import TRUTH, baseline_section
from .study import (
    BINARY,
    EndpointScores,
    StudyReads,
    StudyScores,
    validate_study_reads,
    validate_study_scores,
)
from .summaries import group_summary
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
    reference: str | None = None  # None: 'unaided' (or the only reader condition)
    contrasts: str = "reference"  # pairwise LMM fits: against the reference, or every pair
    primary_endpoint: str | None = None  # None: the first binary endpoint of the read table

    def __post_init__(self) -> None:
        parse_rule(self.operating_point)
        for p in self.table2_points:
            parse_rule(p)
        bad = [m for m in self.extra_models if m not in EXTRA_MODELS]
        if bad:
            raise ValueError(f"unknown extra model(s) {bad}; expected some of {EXTRA_MODELS}")
        if self.backend not in ("statsmodels", "r"):
            raise ValueError("backend must be 'statsmodels' or 'r'")
        if self.contrasts not in CONTRAST_MODES:
            raise ValueError(f"contrasts must be one of {CONTRAST_MODES}")


def _jsonable(obj: Any) -> Any:
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
    meta: dict[str, Any]
    performance: ModelPerformance | None
    lmm: ReaderLmm | None
    lmm_extra: dict[str, ReaderLmm] = field(default_factory=dict)
    mrmc: dict[str, MrmcResult] = field(default_factory=dict)
    per_reader: pd.DataFrame | None = None
    pooled: pd.DataFrame | None = None
    group: pd.DataFrame | None = None
    delong: pd.DataFrame | None = None
    agreement: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    calibration: dict[str, Any] = field(default_factory=dict)  # model_calibration_section()
    endpoint_results: dict[str, EndpointResult] = field(default_factory=dict)
    by_endpoint: bool = False  # the read table has an 'endpoint' column
    primary_endpoint: str = ""  # whose results the top-level keys show (multi-endpoint)
    score_performance: dict[str, ScorePerformance] = field(default_factory=dict)
    log_loss: dict[str, Any] | None = None  # model_performance.weighted_log_loss
    baseline: dict[str, Any] | None = None  # Table 1 (report_baseline.baseline_section)

    def model_performance_dict(self) -> dict[str, Any] | None:
        """``model_performance`` before the calibration entries: Table 2 of the single endpoint
        (with ``slice_level`` / ``scan_level`` when slice scores exist), or one entry per
        endpoint plus ``weighted_log_loss``."""
        if not self.by_endpoint:
            sp = self.score_performance.get(self.primary_endpoint)
            return sp.to_dict() if sp is not None else None
        out: dict[str, Any] = {}
        for name, sp in self.score_performance.items():
            d = sp.to_dict()
            if d is not None:
                out[name] = d
        if self.log_loss is not None:
            out["weighted_log_loss"] = self.log_loss
        return out or None

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

    def summary(self) -> dict[str, Any]:
        """Headline numbers (small, JSON-ready), e.g. for a list view of analysis runs."""
        out: dict[str, Any] = {
            k: self.meta[k] for k in ("n_reads", "n_readers", "n_cases", "conditions")
        }
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
            # two conditions: their difference; three or more: the overall test and the pairs
            out.setdefault("mrmc_or_rrrc", {})[fom] = {
                k: r[k]
                for k in ("diff", "ci_low", "ci_high", "p", "F", "ddf", "pairwise")
                if k in r
            }
        if self.by_endpoint:
            out["primary_endpoint"] = self.primary_endpoint
            out["endpoints"] = list(self.endpoint_results)
        out["skipped"] = sorted(self.skipped)
        summary: dict[str, Any] = _jsonable(out)
        return summary

    def to_dict(self) -> dict[str, Any]:
        out = {
            "meta": self.meta,
            "model_performance": merge_model_performance(
                self.model_performance_dict(), self.calibration
            ),
            "decision_curve": self.calibration.get("decision_curve"),
            "lmm": self.lmm.to_dict() if self.lmm else None,
            "lmm_extra": {k: v.to_dict() for k, v in self.lmm_extra.items()},
            "mrmc": {k: v.to_dict(copy_=False) for k, v in self.mrmc.items()},  # _jsonable copies
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
        if self.by_endpoint:
            out["endpoints"] = {
                k: v.to_dict(copy_=False) for k, v in self.endpoint_results.items()
            }  # _jsonable copies
        if self.baseline is not None:
            out["baseline"] = self.baseline
        data: dict[str, Any] = _jsonable(out)
        return data

    def write(self, out_dir: str | Path, formats: Iterable[str] = FORMATS) -> list[Path]:
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
    context: dict[str, Any] | None = None,
    skipped: dict[str, str] | None = None,
    clinical: pd.DataFrame | None = None,
    group_by: str = TRUTH,
) -> Report:
    """``context`` describes the study (title, design, model version...) for the report's
    header (``meta.study``); ``skipped`` carries what the caller already left out and why.

    A read table with an ``endpoint`` column is analysed per endpoint (``endpoints.<name>``,
    ``model_performance.<name>``); the top-level keys then show the primary endpoint.

    ``clinical``: one row per case (``case``, then its clinical variables) for Table 1
    (``baseline``), grouped by ``group_by``: ``truth`` (of the primary endpoint) or a variable."""
    opt = options or ReportOptions()
    _check_backend(opt)
    study = validate_study_reads(reads_df)
    notes: list[str] = []
    skipped = dict(skipped or {})
    scores, calibration = _scores_section(study, model_scores_df, notes, skipped)
    reference = resolve_reference(_all_conditions(study), opt.reference)
    primary = _primary_endpoint(study, opt)
    results: dict[str, EndpointResult] = {}
    for name, ep in study.endpoints.items():
        es = scores.endpoints.get(name) if scores is not None else None
        res = analyse_endpoint(ep, es, opt, reference, notes, extra_models=name == primary)
        results[name] = res
        skipped.update(_skipped_keys(name, res.skipped, study.by_endpoint))
    score_perf = {k: r.scores for k, r in results.items() if r.scores is not None}
    log_loss = None
    if scores is not None and study.by_endpoint:
        for name, es in scores.endpoints.items():
            if name not in results:  # scored, but not read: model performance only
                sk: dict[str, str] = {}
                score_perf[name] = evaluate_scores(es, opt, sk)
                skipped.update(_skipped_keys(name, sk, True))
        log_loss = _log_loss(scores, skipped)
    p = results[primary]
    baseline = baseline_section(clinical, p.reads, group_by) if clinical is not None else None
    return Report(
        options=opt,
        reads=p.reads,
        meta=_meta(results, primary, study.by_endpoint, reference, opt, context, notes),
        performance=p.performance,
        lmm=p.lmm,
        lmm_extra=p.lmm_extra,
        mrmc=p.mrmc,
        per_reader=p.per_reader,
        pooled=p.pooled,
        group=group_summary(p.per_reader) if p.per_reader is not None else None,
        delong=p.delong,
        agreement=p.agreement,
        skipped=skipped,
        calibration=calibration,
        endpoint_results=results,
        by_endpoint=study.by_endpoint,
        primary_endpoint=primary,
        score_performance=score_perf,
        log_loss=log_loss,
        baseline=baseline,
    )


def _check_backend(opt: ReportOptions) -> None:
    if opt.backend == "r":
        from .lmm_r import r_available

        ok, why = r_available()
        if not ok:
            raise ValueError(f"backend 'r' requested but R is not usable: {why}")


def _scores_section(
    study: StudyReads,
    model_scores_df: pd.DataFrame | None,
    notes: list[str],
    skipped: dict[str, str],
) -> tuple[StudyScores | None, dict[str, Any]]:
    """The validated model scores per endpoint, and the calibration section of every model.
    A single-endpoint score table without ``endpoint``/``slice`` columns is read as before."""
    if model_scores_df is None:
        return None, {}
    legacy = not study.by_endpoint and not {"endpoint", "slice"} & set(model_scores_df.columns)
    if legacy:
        calibration = model_calibration_section(model_scores_df)
        skipped.update(calibration["skipped"])
        primary = validate_scores(table2_scores(model_scores_df, notes))
        one = StudyScores({"": EndpointScores("", primary, "case")}, False, model_scores_df, [])
        return one, calibration
    scores = validate_study_scores(model_scores_df, study.names)
    calibration = model_calibration_section(scores.calibration_frame)
    skipped.update(calibration["skipped"])
    if len(scores.models) > 1:
        notes.append(
            f"Table 2 and the model reads use model {scores.models[0]!r} (first of "
            f"{len(scores.models)} in the score table); calibration and decision curves cover "
            "every model"
        )
    return scores, calibration


def _all_conditions(study: StudyReads) -> list[str]:
    seen: dict[str, None] = {}
    for ep in study.endpoints.values():
        seen.update(dict.fromkeys(present_conditions(ep.reads)))
    return list(seen)


def _primary_endpoint(study: StudyReads, opt: ReportOptions) -> str:
    names = study.names
    if opt.primary_endpoint is not None:
        if opt.primary_endpoint not in names:
            raise ValueError(
                f"primary endpoint {opt.primary_endpoint!r} is not in the read table; "
                f"endpoints: {', '.join(names)}"
            )
        return opt.primary_endpoint
    binary = [n for n in names if study.endpoints[n].kind == BINARY]
    return (binary or names)[0]


def _skipped_keys(name: str, skipped: dict[str, str], by_endpoint: bool) -> dict[str, str]:
    """An endpoint's skipped analyses under report keys: ``endpoints.<name>.lmm...`` and
    ``model_performance.<name>...`` (unchanged for a single-endpoint table)."""
    if not by_endpoint:
        return dict(skipped)
    out = {}
    for key, why in skipped.items():
        head, _, rest = key.partition(".")
        if head == "model_performance":
            out[f"model_performance.{name}" + (f".{rest}" if rest else "")] = why
        else:
            out[f"endpoints.{name}.{key}"] = why
    return out


def _log_loss(scores: StudyScores, skipped: dict[str, str]) -> dict[str, Any] | None:
    """Seed 004's weighted multi-label log-loss over the endpoints scored with probabilities:
    per slice when every one of them has slice scores, else per case."""
    usable = {}
    for name, es in scores.endpoints.items():
        frames = [es.cases] + ([es.slices] if es.slices is not None else [])
        if all(f["score"].between(0, 1).all() for f in frames):
            usable[name] = es
    by_slice = bool(usable) and all(es.slices is not None for es in usable.values())
    tables = {k: (es.slices if by_slice else es.cases) for k, es in usable.items()}
    out = log_loss_section(
        {k: t for k, t in tables.items() if t is not None}, "slice" if by_slice else "case"
    )
    if out is None:
        skipped["model_performance.weighted_log_loss"] = (
            "needs scores in [0, 1] for at least one endpoint, on cases (or slices) scored "
            "for every such endpoint"
        )
    return out


def _meta(
    results: dict[str, EndpointResult],
    primary: str,
    by_endpoint: bool,
    reference: str,
    opt: ReportOptions,
    context: dict[str, Any] | None,
    notes: list[str],
) -> dict[str, Any]:
    """The report's header: study, options, software and the counts of the read table (a
    multi-endpoint table: over all endpoints; positive cases of the primary endpoint)."""
    frames = [r.reads for r in results.values()]
    readers = set().union(*(set(f.loc[f["condition"] != MODEL, "reader"]) for f in frames))
    cases = set().union(*(set(f["case"]) for f in frames))
    seen: dict[str, None] = {}
    for r in results.values():
        seen.update(dict.fromkeys(r.conditions))
    p = results[primary]
    meta: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "study": dict(context or {}),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "options": _jsonable(asdict(opt)),
        "software": software_versions(opt.backend),
        "n_reads": int(sum(len(f) for f in frames)),
        "n_readers": len(readers),
        "n_cases": len(cases),
        "n_positive_cases": (
            int(p.reads.drop_duplicates("case")["truth"].sum()) if p.binary else None
        ),
        "conditions": ordered_conditions(seen, reference),
        "reference": reference,
        "has_ratings": any(bool(f["rating"].notna().any()) for f in frames),
        "notes": notes,
    }
    if by_endpoint:
        meta["endpoints"] = list(results)
        meta["endpoint_kinds"] = {k: r.kind for k, r in results.items()}
        meta["primary_endpoint"] = primary
    return meta


def dumps(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, allow_nan=False)
