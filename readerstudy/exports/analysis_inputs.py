"""What an in-platform analysis is run on: the reads, the model's scores, and what was left out.

A case without ground truth for an endpoint cannot be scored; instead of failing the whole run,
its reads of that endpoint are left out and the report names the cases (``skipped``). A study
in which no read has truth is refused with the list. The model's scores come from the latest
output per case of the study's model version; when there are none, ``skipped`` says why.

With an ``endpoint`` column (more than one analysis endpoint, or a non-binary one) the reads and
scores carry it and the report's primary endpoint is the study's. A multi-class read without an
answer (e.g. a location not asked because the reader saw no bleed) counts as the class
``unanswered``; a binary read without one is left out.
"""

from dataclasses import dataclass, field

import pandas as pd

from readerstudy.studies.endpoints import truth_present
from readerstudy.studies.errors import ProtocolConflict
from readerstudy.studies.models import ReaderStudy
from readerstudy.studies.truth_source import describe as describe_truth_source

from .model_reads import model_scores, study_model
from .reads import reads_table
from .study_endpoints import (
    analysis_names,
    endpoint_label_text,
    primary_analysis_name,
    primary_endpoint,
    study_endpoints,
    truths_by_case,
)

ANALYSIS_COLUMNS = ["reader", "case", "condition", "truth", "decision", "rating"]
UNANSWERED = "unanswered"
_LISTED = 20


@dataclass
class AnalysisInputs:
    reads: pd.DataFrame
    scores: pd.DataFrame | None
    skipped: dict[str, str] = field(default_factory=dict)
    context: dict = field(default_factory=dict)
    primary_endpoint: str | None = None  # with an endpoint column: the study's primary


def _listed(codes: list[str]) -> str:
    shown = ", ".join(codes[:_LISTED])
    return shown + (f" and {len(codes) - _LISTED} more" if len(codes) > _LISTED else "")


def _context(study: ReaderStudy, endpoints: list) -> dict:
    version, operating_point = study_model(study)
    return {
        "title": study.title,
        "design": study.get_design_display(),
        "status": study.status,
        "opened_at": study.opened_at.isoformat() if study.opened_at else None,
        "closed_at": study.closed_at.isoformat() if study.closed_at else None,
        "endpoint": endpoint_label_text(primary_endpoint(endpoints)),
        "model_version": str(version) if version else None,
        "operating_point": operating_point or None,
        "truth": (
            "opened before every case had ground truth; cases still without it are left out"
            if study.truth_pending_allowed
            else "every case had ground truth when the study opened"
        ),
        "truth_source": describe_truth_source(study),
    }


def _scores(study: ReaderStudy, cases: set[str], skipped: dict[str, str]) -> pd.DataFrame | None:
    version, _ = study_model(study)
    if version is None:
        skipped["model_performance"] = "the study shows no model, so there are no model scores"
        return None
    scores = model_scores(study, with_truth=True)
    scores = scores[scores["case"].isin(cases) & scores["truth"].notna()]
    if scores.empty:
        skipped["model_performance"] = (
            f"no output of {version} for any analysed case (has the model been run?)"
        )
        return None
    missing = sorted(cases - set(scores["case"]))
    if missing:
        skipped["model_scores"] = (
            f"{len(missing)} analysed case(s) have no output of {version}; Table 2 uses the "
            f"other {scores['case'].nunique()}: {_listed(missing)}"
        )
    if "endpoint" in scores:
        return _two_class_endpoints(scores, skipped)
    if scores["truth"].nunique() < 2:
        skipped["model_performance"] = (
            "the cases with model scores are all of one truth class; a ROC curve needs both"
        )
        return None
    return scores.astype({"truth": int})


def _two_class_endpoints(scores: pd.DataFrame, skipped: dict[str, str]) -> pd.DataFrame | None:
    classes = scores.groupby("endpoint", sort=False)["truth"].nunique()
    for name in classes.index[classes < 2]:
        skipped[f"model_performance.{name}"] = (
            "the cases with model scores are all of one truth class; a ROC curve needs both"
        )
    scores = scores[scores["endpoint"].isin(classes.index[classes >= 2])]
    if scores.empty:
        return None
    return scores.astype({"truth": int})


def _missing_truth(reads: pd.DataFrame, study: ReaderStudy, endpoints: list) -> pd.DataFrame:
    """Rows without truth, with ``outside``: the case's truth settles the endpoint but gives
    it no value (a location of a case without ICH), so the case is not part of it."""
    missing = reads[reads["truth"].isna()][["case", "endpoint"]].drop_duplicates()
    by_name = {name: ep for ep in endpoints for name in analysis_names(ep)}
    truths = {gt.case.code: gt for gt in truths_by_case(study).values()}
    outside = [
        truth_present(by_name[name], truths.get(case)) if name in by_name else False
        for case, name in zip(missing["case"], missing["endpoint"], strict=True)
    ]
    return missing.assign(outside=pd.Series(outside, index=missing.index, dtype=bool))


def _drop_without_truth(
    reads: pd.DataFrame, study: ReaderStudy, endpoints: list, skipped: dict[str, str]
) -> pd.DataFrame:
    if "endpoint" not in reads:
        reads = reads.assign(endpoint="")
    missing = _missing_truth(reads, study, endpoints)
    label = endpoint_label_text(primary_endpoint(endpoints))
    if reads["truth"].notna().sum() == 0:
        codes = sorted(set(missing["case"]))
        raise ProtocolConflict(
            "no_truth", f"no read case has ground truth for {label}: {_listed(codes)}"
        )
    absent = missing[~missing["outside"]]
    parts = [
        (f"{name!s}: " if name else "") + _listed(sorted(rows["case"]))
        for name, rows in absent.groupby("endpoint", sort=False)
    ]
    if parts:
        by_endpoint = (reads["endpoint"] != "").any()
        what = "ground truth for that endpoint" if by_endpoint else f"ground truth for {label}"
        skipped["cases_without_truth"] = (
            f"{absent['case'].nunique()} case(s) have no {what} and were left out of its "
            f"analyses: {'; '.join(parts)}"
        )
    outside = missing[missing["outside"]]
    for name, rows in outside.groupby("endpoint", sort=False):
        skipped[f"endpoints.{name}.cases_outside"] = (
            f"{len(rows)} case(s) have no {name} to read (their truth leaves it empty) and are "
            f"not part of this endpoint: {_listed(sorted(rows['case']))}"
        )
    reads = reads[reads["truth"].notna()]
    return reads if (reads["endpoint"] != "").any() else reads.drop(columns=["endpoint"])


def _fill_decisions(reads: pd.DataFrame, skipped: dict[str, str]) -> pd.DataFrame:
    multi_class = ~reads["truth"].astype(str).isin(["0", "1"])
    if multi_class.any():
        fill = multi_class & reads["decision"].isna()
        reads = reads.assign(decision=reads["decision"].where(~fill, UNANSWERED))
    unanswered = reads["decision"].isna()
    if unanswered.any():
        skipped["reads_without_decision"] = (
            f"{int(unanswered.sum())} read(s) have no answer for their endpoint and were left out"
        )
    return reads[~unanswered]


def _typed(reads: pd.DataFrame) -> pd.DataFrame:
    if "endpoint" not in reads:
        return reads.astype({"truth": int, "decision": "float64"})
    text = reads["truth"].dtype == "string"
    return reads.astype(
        {"truth": str, "decision": str} if text else {"truth": int, "decision": int}
    )


def _in_condition_order(reads: pd.DataFrame, study: ReaderStudy) -> pd.DataFrame:
    """Rows grouped by the study's condition order (stable within a condition).

    The analysis reports conditions, and orients every difference, in the order they first
    appear in the table; the export's reading order would make that depend on which condition a
    crossover reader happened to read first. Conditions the study does not list (``model``) go
    last.
    """
    codes = list(study.conditions.order_by("order").values_list("code", flat=True))
    rank = reads["condition"].map({code: i for i, code in enumerate(codes)})
    order = rank.fillna(len(codes)).to_numpy()
    return reads.iloc[order.argsort(kind="stable")]


def analysis_inputs(study: ReaderStudy) -> AnalysisInputs:
    endpoints = study_endpoints(study)
    table = reads_table(study, with_truth=True, columns=[*ANALYSIS_COLUMNS, "endpoint"])
    reads = table[ANALYSIS_COLUMNS + (["endpoint"] if "endpoint" in table else [])]
    skipped: dict[str, str] = {}
    reads = _typed(_fill_decisions(_drop_without_truth(reads, study, endpoints, skipped), skipped))
    reads = _in_condition_order(reads, study)
    if reads["rating"].isna().all():
        reads = reads.drop(columns=["rating"])
    scores = _scores(study, set(reads["case"]), skipped)
    primary = None
    if "endpoint" in reads:
        name = primary_analysis_name(endpoints)
        primary = name if name in set(reads["endpoint"]) else None
    return AnalysisInputs(
        reads=reads.reset_index(drop=True),
        scores=scores,
        skipped=skipped,
        context=_context(study, endpoints),
        primary_endpoint=primary,
    )
