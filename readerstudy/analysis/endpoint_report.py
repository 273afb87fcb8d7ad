"""The analyses of one endpoint: model performance (case, slice and scan level), the reader
mixed models, OR/DBM, per-reader tables, agreement, confusion matrices and model-reader
discordance. ``build_report`` runs it once for a single-endpoint read table (its results are
the report's top-level keys, as before) and once per endpoint otherwise (``endpoints.<name>``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .agreement import reader_agreement
from .conditions import MODEL, ordered_conditions, present_conditions
from .discordance import discordance
from .fom import MrmcDesignError, fom_from_arrays, wide_arrays
from .lmm import ReaderLmm, reader_lmm
from .mrmc import MrmcResult, delong_per_reader
from .mrmc_dbm import dbm_analysis
from .mrmc_or import or_analysis
from .multiclass import confusion_by_condition
from .performance import ModelPerformance, model_performance
from .reads import check_scores_match_reads, model_reads_from_scores
from .study import BINARY, EndpointReads, EndpointScores
from .summaries import per_reader_metrics, pooled_counts

if TYPE_CHECKING:
    from .report import ReportOptions

BINARY_LMM = ("accuracy", "sensitivity", "specificity")
BINARY_FOMS = ("auc", "sensitivity", "specificity", "accuracy")
GROUP_METRICS = ("accuracy", "sensitivity", "specificity", "f1", "auc_binary")
PER_READER_KEYS = (
    "reader",
    "condition",
    "n",
    "tp",
    "fn",
    "fp",
    "tn",
    "sensitivity",
    "specificity",
    "accuracy",
    "f1",
    "auc_binary",
)
SCORE_LEVELS = {"case": "case", "max_over_slices": "scan (maximum over slices)"}


def reader_group(
    per_reader: pd.DataFrame,
    conditions: list[str],
    metrics: tuple[str, ...] = GROUP_METRICS,
) -> dict[str, dict[str, dict[str, float | None]]]:
    """Seed 002's "x̄ ± s" row: per condition, the mean and the sample SD (ddof 1; None with one
    reader) of each metric over the readers' rows of ``per_reader``."""
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for cond in conditions:
        sub = per_reader[per_reader["condition"] == cond]
        if sub.empty:
            continue
        out[cond] = {
            m: {
                "mean": float(sub[m].mean()),
                "sd": float(sub[m].std(ddof=1)) if len(sub) > 1 else None,
            }
            for m in metrics
        }
    return out


@dataclass
class ScorePerformance:
    """Model performance of one endpoint's scores at case level and, with slice scores, at
    slice level (case-clustered bootstrap) and scan level (maximum over slices)."""

    case: ModelPerformance | None = None
    case_source: str = "case"
    slice: ModelPerformance | None = None
    scan: ModelPerformance | None = None

    def to_dict(self) -> dict[str, Any] | None:
        out = self.case.to_dict() if self.case is not None else None
        if self.slice is None and self.scan is None:
            return out
        out = dict(out or {})
        out["level"] = SCORE_LEVELS[self.case_source]
        out["slice_level"] = self.slice.to_dict() if self.slice is not None else None
        out["scan_level"] = self.scan.to_dict() if self.scan is not None else None
        return out


@dataclass
class EndpointResult:
    name: str
    kind: str
    labels: list[str]
    reference: str
    reads: pd.DataFrame
    conditions: list[str] = field(default_factory=list)
    scores: ScorePerformance | None = None
    lmm: ReaderLmm | None = None
    lmm_extra: dict[str, ReaderLmm] = field(default_factory=dict)
    mrmc: dict[str, MrmcResult] = field(default_factory=dict)
    delong: pd.DataFrame | None = None
    per_reader: pd.DataFrame | None = None
    pooled: pd.DataFrame | None = None
    agreement: dict[str, Any] = field(default_factory=dict)
    confusion: dict[str, Any] | None = None
    discordance: dict[str, Any] | None = None
    skipped: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def binary(self) -> bool:
        return self.kind == BINARY

    @property
    def performance(self) -> ModelPerformance | None:
        return self.scores.case if self.scores is not None else None

    @property
    def reader_conditions(self) -> list[str]:
        return [c for c in self.conditions if c != MODEL]

    def group(self) -> dict[str, dict[str, dict[str, float | None]]] | None:
        """{condition: {metric: {mean, sd}}} across the readers of each reader condition
        (sample SD, ddof 1; null with one reader)."""
        if self.per_reader is None:
            return None
        return reader_group(self.per_reader, self.reader_conditions)

    def to_dict(self, copy_: bool = True) -> dict[str, Any]:
        """``endpoints.<name>`` of report.json (``copy_=False``: the MRMC entries are the
        cached dicts themselves, for read-only use)."""
        cases = self.reads.drop_duplicates("case")
        out: dict[str, Any] = {
            "kind": self.kind,
            "labels": self.labels,
            "reference": self.reference,
            "conditions": self.conditions,
            "n_reads": int(len(self.reads)),
            "n_readers": int(self.reads.loc[self.reads["condition"] != MODEL, "reader"].nunique()),
            "n_cases": int(len(cases)),
        }
        if self.binary:
            out["n_positive_cases"] = int(cases["truth"].sum())
        else:
            counts = cases["truth"].value_counts()
            out["class_counts"] = {lab: int(counts.get(lab, 0)) for lab in self.labels}
        per_reader = self.per_reader[list(PER_READER_KEYS)] if self.per_reader is not None else None
        out.update(
            {
                "has_ratings": bool(self.reads["rating"].notna().any()),
                "lmm": self.lmm.to_dict() if self.lmm is not None else None,
                "mrmc": {k: v.to_dict(copy_=copy_) for k, v in self.mrmc.items()},
                "delong_per_reader": self.delong,
                "per_reader": per_reader,
                "group": self.group(),
                "pooled_counts": self.pooled,
                "agreement": self.agreement,
                "confusion": self.confusion,
                "discordance": self.discordance,
                "notes": self.notes,
            }
        )
        return out


def _rules(opt: ReportOptions) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*opt.table2_points, opt.operating_point)))


def _performance(
    frame: pd.DataFrame, opt: ReportOptions, clusters: np.ndarray | None = None
) -> ModelPerformance | None:
    if frame["truth"].nunique() < 2:
        return None
    return model_performance(
        frame["truth"],
        frame["score"],
        _rules(opt),
        opt.n_bootstrap,
        opt.seed,
        opt.stratified_bootstrap,
        opt.level,
        clusters=clusters,
    )


def evaluate_scores(
    scores: EndpointScores, opt: ReportOptions, skipped: dict[str, str]
) -> ScorePerformance:
    """Case-level performance and, with slice scores, slice- and scan-level performance."""
    out = ScorePerformance(case_source=scores.case_source)
    out.case = _performance(scores.cases, opt)
    if out.case is None:
        skipped["model_performance"] = "'truth' must contain both 0 and 1 to compute a ROC curve"
    if scores.slices is not None:
        out.slice = _performance(scores.slices, opt, scores.slices["case"].to_numpy())
        if out.slice is None:
            skipped["model_performance.slice_level"] = "slice truth has a single class"
    if scores.scan is not None:
        out.scan = (
            out.case if scores.case_source == "max_over_slices" else _performance(scores.scan, opt)
        )
    return out


def _model_section(
    res: EndpointResult, scores: EndpointScores, opt: ReportOptions, notes: list[str]
) -> None:
    """Model performance; model reads derived from its scores when the read table has none."""
    prefix = f"{res.name}: " if res.name else ""
    if not res.binary:
        res.skipped["model_performance"] = (
            "multi-class endpoint: give the model's calls as 'model' reads, or score each "
            "class as a binary endpoint"
        )
        return
    check_scores_match_reads(res.reads, scores.cases)
    res.scores = evaluate_scores(scores, opt, res.skipped)
    perf = res.scores.case
    if perf is None:
        return
    if (res.reads["condition"] == MODEL).any():
        notes.append(prefix + "model reads taken from the read table; scores used for Table 2 only")
        return
    rules = _rules(opt)
    op = perf.points[opt.operating_point if opt.operating_point in perf.points else rules[-1]]
    in_reads = scores.cases[scores.cases["case"].isin(set(res.reads["case"]))]
    res.reads = pd.concat(
        [res.reads, model_reads_from_scores(in_reads, op.threshold)], ignore_index=True
    )
    notes.append(
        prefix + f"model reads derived from scores at {op.rule} "
        f"(threshold {op.threshold:.6g}) on {len(in_reads)} read cases"
    )


def _lmm_frame(reads: pd.DataFrame) -> pd.DataFrame:
    """The reads with reader and case ids as integer codes: the mixed models only group by
    them, and grouping integers is much faster than grouping text on large tables."""
    return reads.assign(
        reader=pd.factorize(reads["reader"])[0], case=pd.factorize(reads["case"])[0]
    )


def _lmm_section(res: EndpointResult, opt: ReportOptions, reads: pd.DataFrame) -> None:
    """The main reader LMM (Table 3): accuracy, sensitivity, specificity (multi-class:
    accuracy); None when it could not be fitted for any endpoint."""
    try:
        lmm = reader_lmm(
            reads,
            opt.lmm_mode,
            opt.lmm_random,
            opt.backend,
            endpoints=BINARY_LMM if res.binary else ("accuracy",),
            level=opt.level,
            engine=opt.lmm_engine,
            reference=res.reference,
            contrasts=opt.contrasts,
        )
    except (ValueError, RuntimeError) as exc:
        res.skipped["lmm"] = str(exc)
        return
    res.skipped.update({f"lmm.{k}": v for k, v in lmm.skipped.items()})
    res.lmm = lmm if lmm.endpoints else None


def _extra_models_section(res: EndpointResult, opt: ReportOptions, reads: pd.DataFrame) -> None:
    """The sensitivity-analysis models of ``extra_models``, by name."""
    eps = BINARY_LMM if res.binary else ("accuracy",)
    for name in opt.extra_models:
        try:
            if name == "glmm":
                fit = reader_lmm(
                    reads,
                    opt.lmm_mode,
                    opt.lmm_random,
                    "r",
                    family="binomial",
                    endpoints=eps,
                    level=opt.level,
                    reference=res.reference,
                    contrasts=opt.contrasts,
                )
            else:
                fit = reader_lmm(
                    reads,
                    opt.lmm_mode,
                    name,
                    opt.backend,
                    endpoints=eps,
                    level=opt.level,
                    engine=opt.lmm_engine,
                    reference=res.reference,
                    contrasts=opt.contrasts,
                )
        except (ValueError, RuntimeError) as exc:
            res.skipped[f"lmm_extra.{name}"] = str(exc)
            continue
        res.lmm_extra[name] = fit
        res.skipped.update({f"lmm_extra.{name}.{k}": v for k, v in fit.skipped.items()})


def _accuracy_frame(reads: pd.DataFrame) -> pd.DataFrame:
    """A multi-class endpoint's reads recoded for the accuracy FOM: truth 1, decision =
    correct (the FOM is then the proportion of correct reads)."""
    return reads.assign(truth=1, decision=reads["correct"].astype(int))


def _delong(
    rating: tuple[np.ndarray, np.ndarray, list[str], list[str]], readers: list[str], level: float
) -> pd.DataFrame:
    """Per-reader paired DeLong tests: the two conditions, or each against the reference."""
    values, truth, reader_ids, _ = rating
    empty = pd.DataFrame()
    if len(readers) == 2:
        return delong_per_reader(empty, (readers[0], readers[1]), level, wide=rating[:3])
    parts = []
    ref = readers[0]
    for i, other in enumerate(readers[1:], start=1):
        pair = (values[[0, i]], truth, reader_ids)
        d = delong_per_reader(empty, (ref, other), level, wide=pair)
        d = d.rename(
            columns={
                f"auc_{ref}": "auc_a",
                f"auc_{other}": "auc_b",
                f"var_{ref}": "var_a",
                f"var_{other}": "var_b",
            }
        )
        d.insert(1, "comparison", f"{other} - {ref}")
        parts.append(d)
    return pd.concat(parts, ignore_index=True)


def _mrmc_section(res: EndpointResult, opt: ReportOptions) -> None:
    """Obuchowski-Rockette / DBM per figure of merit over every reader condition (overall test
    and pairwise differences), and per-reader DeLong AUC tests."""
    readers = res.reader_conditions
    if len(readers) < 2:
        res.skipped["mrmc"] = (
            "needs reads in at least two reader conditions (e.g. 'unaided' and 'aided')"
        )
        return
    reads = res.reads if res.binary else _accuracy_frame(res.reads)
    reader_reads = reads[reads["condition"].isin(readers)]
    wide: dict[str, tuple[np.ndarray, np.ndarray, list[str], list[str]] | MrmcDesignError] = {}
    for fom in BINARY_FOMS if res.binary else ("accuracy",):
        column = "rating" if fom == "auc" else "decision"
        if fom == "auc" and reader_reads["rating"].isna().any():
            res.skipped["mrmc.auc"] = f"no 'rating' for every {'/'.join(readers)} read"
            continue
        try:
            if column not in wide:  # one pivot per column, shared by the FOMs
                wide[column] = _wide_or_error(reader_reads, readers, column)
            arrays = wide[column]
            if isinstance(arrays, MrmcDesignError):
                raise arrays
            res.mrmc[fom] = _mrmc(fom, arrays, readers, opt)
        except (MrmcDesignError, ValueError) as exc:
            res.skipped[f"mrmc.{fom}"] = str(exc)
    rating = wide.get("rating")
    if "auc" in res.mrmc and isinstance(rating, tuple):
        res.delong = _delong(rating, readers, opt.level)


def _wide_or_error(
    reads: pd.DataFrame, readers: list[str], column: str
) -> tuple[np.ndarray, np.ndarray, list[str], list[str]] | MrmcDesignError:
    try:
        return wide_arrays(reads, readers, column)
    except MrmcDesignError as exc:
        return exc


def _mrmc(
    fom: str,
    arrays: tuple[np.ndarray, np.ndarray, list[str], list[str]],
    conditions: list[str],
    opt: ReportOptions,
) -> MrmcResult:
    """``mrmc_analysis`` on already pivoted reads (values (t, r, n), truth, readers, cases)."""
    values, truth, reader_ids, _ = arrays
    data = fom_from_arrays(fom, truth, values, list(conditions), reader_ids, opt.jackknife_cases)
    orr = or_analysis(data, opt.mrmc_cov, opt.level)
    dbm = dbm_analysis(data, opt.level)
    return MrmcResult(fom, tuple(conditions), opt.mrmc_cov, opt.jackknife_cases, data, orr, dbm)


def _agreement(ep: EndpointReads, res: EndpointResult) -> None:
    for cond in res.reader_conditions:
        entry = reader_agreement(res.reads, cond)
        if ep.slices is not None and (ep.slices["condition"] == cond).any():
            sl = reader_agreement(ep.slices, cond, unit=("case", "slice"))
            entry["slice"] = {"n_slices" if k == "n_cases" else k: v for k, v in sl.items()}
        res.agreement[cond] = entry


def _describe(ep: EndpointReads, res: EndpointResult) -> None:
    """Per-reader metrics, pooled counts, agreement, confusion matrices and discordance."""
    if res.binary:
        res.per_reader = per_reader_metrics(res.reads, res.conditions)
        res.pooled = pooled_counts(res.reads, res.conditions)
    else:
        res.confusion = confusion_by_condition(res.reads, res.conditions, res.labels)
    _agreement(ep, res)
    if MODEL in res.conditions:
        disc = {
            cond: d
            for cond in res.reader_conditions
            if (d := discordance(res.reads, cond, res.binary)) is not None
        }
        res.discordance = disc or None


def analyse_endpoint(
    ep: EndpointReads,
    scores: EndpointScores | None,
    opt: ReportOptions,
    reference: str,
    notes: list[str],
    extra_models: bool = True,
) -> EndpointResult:
    """Every analysis of one endpoint; what could not run is in ``skipped`` (keys relative
    to the endpoint: ``lmm.accuracy.aided_vs_unaided``, ``mrmc.auc``...)."""
    res = EndpointResult(ep.name, ep.kind, ep.labels, reference, ep.reads)
    if scores is not None:
        _model_section(res, scores, opt, notes)
    present = present_conditions(res.reads)
    res.conditions = [c for c in ordered_conditions(present, reference) if c in present]
    if reference not in present:
        res.skipped["lmm"] = res.skipped["mrmc"] = f"no reads in the reference {reference!r}"
    else:
        lmm_reads = _lmm_frame(res.reads)
        _lmm_section(res, opt, lmm_reads)
        if extra_models:
            _extra_models_section(res, opt, lmm_reads)
        _mrmc_section(res, opt)
    if not res.binary:
        res.notes.append(
            "multi-class endpoint: the mixed models and OR/DBM analyse accuracy (correct reads); "
            "per-class results are in 'confusion'"
        )
    _describe(ep, res)
    return res
