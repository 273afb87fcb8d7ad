"""What an in-platform analysis is run on: the reads, the model's scores, and what was left out.

A case without ground truth for the study's endpoint cannot be scored; instead of failing the
whole run, its reads are left out and the report names the cases (``skipped``). A study in
which no case has truth is refused with the list. The model's scores come from the latest
output per case of the study's model version; when there are none, ``skipped`` says why.
"""

from dataclasses import dataclass, field

import pandas as pd

from readerstudy.studies.errors import ProtocolConflict
from readerstudy.studies.models import ReaderStudy

from .reads import model_scores, reads_table

ANALYSIS_COLUMNS = ["reader", "case", "condition", "truth", "decision", "rating"]
_LISTED = 20


@dataclass
class AnalysisInputs:
    reads: pd.DataFrame
    scores: pd.DataFrame | None
    skipped: dict[str, str] = field(default_factory=dict)
    context: dict = field(default_factory=dict)


def _listed(codes: list[str]) -> str:
    shown = ", ".join(codes[:_LISTED])
    return shown + (f" and {len(codes) - _LISTED} more" if len(codes) > _LISTED else "")


def _context(study: ReaderStudy) -> dict:
    version = study.assistance.model_version
    return {
        "title": study.title,
        "design": study.get_design_display(),
        "status": study.status,
        "opened_at": study.opened_at.isoformat() if study.opened_at else None,
        "closed_at": study.closed_at.isoformat() if study.closed_at else None,
        "endpoint": f"{study.positive_label} (positive) vs {study.negative_label}",
        "model_version": str(version) if version else None,
        "operating_point": study.assistance.operating_point,
        "truth": (
            "opened before every case had ground truth; cases still without it are left out"
            if study.truth_pending_allowed
            else "every case had ground truth when the study opened"
        ),
    }


def _scores(study: ReaderStudy, cases: set[str], skipped: dict[str, str]) -> pd.DataFrame | None:
    version = study.assistance.model_version
    if version is None:
        skipped["model_performance"] = "the study shows no model, so there are no model scores"
        return None
    scores = model_scores(study, with_truth=True)
    scores = scores[scores["case"].isin(cases)]
    if scores.empty:
        skipped["model_performance"] = (
            f"no output of {version} for any analysed case (has the model been run?)"
        )
        return None
    missing = sorted(cases - set(scores["case"]))
    if missing:
        skipped["model_scores"] = (
            f"{len(missing)} analysed case(s) have no output of {version}; Table 2 uses the "
            f"other {len(scores)}: {_listed(missing)}"
        )
    if scores["truth"].nunique() < 2:
        skipped["model_performance"] = (
            "the cases with model scores are all of one truth class; a ROC curve needs both"
        )
        return None
    return scores.astype({"truth": int})


def analysis_inputs(study: ReaderStudy) -> AnalysisInputs:
    reads = reads_table(study, with_truth=True)[ANALYSIS_COLUMNS]
    skipped: dict[str, str] = {}
    no_truth = sorted(set(reads.loc[reads["truth"].isna(), "case"]))
    if no_truth and len(no_truth) == reads["case"].nunique():
        raise ProtocolConflict(
            "no_truth",
            f"no read case has ground truth '{study.positive_label}' or "
            f"'{study.negative_label}': {_listed(no_truth)}",
        )
    if no_truth:
        skipped["cases_without_truth"] = (
            f"{len(no_truth)} case(s) have no ground truth '{study.positive_label}' or "
            f"'{study.negative_label}' and were left out of every analysis: {_listed(no_truth)}"
        )
        reads = reads[~reads["case"].isin(no_truth)]
    reads = reads.astype({"truth": int, "decision": "float64"})
    if reads["rating"].isna().all():
        reads = reads.drop(columns=["rating"])
    scores = _scores(study, set(reads["case"]), skipped)
    return AnalysisInputs(reads=reads, scores=scores, skipped=skipped, context=_context(study))
