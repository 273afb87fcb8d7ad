"""The study's model in the exports: its pseudo-reader rows of READS and the SCORES table.

Both come from the latest output per case of the study's model version. An analysis endpoint
gets the model only where the output has a probability for its label (looked up by label value:
a binary endpoint's positive label, a multi-label endpoint's own label); multi-class endpoints
get none. The model's 0/1 call is read from the output's decision at the study's operating point.
"""

from collections.abc import Iterator

import pandas as pd
from django.db.models import F

from readerstudy.ai.models import InferenceJob, InferenceOutput, ModelVersion
from readerstudy.studies.endpoints import endpoint_values
from readerstudy.studies.models import Endpoint, ReaderStudy, StudyCase

from .study_endpoints import has_endpoint_column, score_label, study_endpoints, truths_by_case

SCORE_COLUMNS = ["case", "endpoint", "truth", "score"]


def study_model(study: ReaderStudy) -> tuple[ModelVersion | None, str]:
    """The study's model version and operating point (``(None, "")`` when it shows none)."""
    config = study.assistance
    if config is None or config.model_version is None:
        return None, ""
    return config.model_version, config.operating_point


def latest_outputs(study: ReaderStudy, version: ModelVersion) -> dict[int, InferenceOutput]:
    """Per primary series of the study's cases, the newest succeeded output of ``version``
    (``ai.selectors.latest_output`` for every case at once: one query)."""
    series = study.study_cases.values("case__primary_series")
    found = (
        InferenceOutput.objects.filter(
            job__series__in=series,
            job__model_version=version,
            job__status=InferenceJob.Status.SUCCEEDED,
        )
        .annotate(series_id=F("job__series_id"))
        .order_by("created_at", "id")
    )
    return {o.series_id: o for o in found}


def _outputs(
    study: ReaderStudy, version: ModelVersion
) -> Iterator[tuple[StudyCase, InferenceOutput]]:
    latest = latest_outputs(study, version)
    for sc in study.study_cases.select_related("case"):
        output = latest.get(sc.case.primary_series_id or 0)
        if output is not None:
            yield sc, output


def model_call(output: InferenceOutput, operating_point: str, label: str) -> int | None:
    """The model's 0/1 call on ``label`` at ``operating_point`` (decisions are
    ``{operating point: {label: 0 or 1}}``); None when it makes none."""
    calls = (output.decisions or {}).get(operating_point)
    if isinstance(calls, dict) and calls.get(label) is not None:
        return int(bool(calls[label]))
    return None


def _probability(output: InferenceOutput, label: str | None) -> float | None:
    """A binary or multi-label label's probability (a multi-class head's is a dict: none)."""
    value = (output.probabilities or {}).get(label) if label else None
    return None if value is None or isinstance(value, dict) else float(value)


def _model_call_of(output, operating_point: str, label: str | None) -> tuple:
    """(call, probability) of the model on ``label``; (None, None) without both."""
    p = _probability(output, label)
    if p is None or label is None:
        return None, None
    call = model_call(output, operating_point, label)
    return (None, None) if call is None else (call, p)


def model_rows(
    study: ReaderStudy, endpoints: list[Endpoint], truths: dict, *, with_truth: bool
) -> list[dict]:
    """READS rows of the model (condition ``model``): one per case and analysis endpoint."""
    version, operating_point = study_model(study)
    if version is None:
        return []
    rows: list[dict] = []
    for sc, output in _outputs(study, version):
        truth = truths.get(sc.case_id) if with_truth else None
        for endpoint in endpoints:
            for value in endpoint_values(endpoint, {}, truth):
                label = score_label(endpoint, value.endpoint)
                decision, p = _model_call_of(output, operating_point, label)
                if decision is None:
                    continue
                rows.append(
                    {
                        "reader": f"model:{version.model_id}",
                        "case": sc.case.code,
                        "condition": "model",
                        "endpoint": value.endpoint,
                        "truth": value.truth,
                        "decision": decision,
                        "rating": round(100 * p, 4),
                        "model_version": str(version),
                        "answers": {},
                    }
                )
    return rows


def model_scores(study: ReaderStudy, *, with_truth: bool) -> pd.DataFrame:
    """SCORES (case, [endpoint], truth, score): the model's probability per case and binary
    analysis endpoint, at full precision. ``endpoint`` as in READS; ``truth`` NA where a case
    has none for the endpoint, and the column is left out without truth access."""
    endpoints = study_endpoints(study)
    columns = list(SCORE_COLUMNS)
    if not has_endpoint_column(endpoints):
        columns.remove("endpoint")
    if not with_truth:
        columns.remove("truth")
    version, _ = study_model(study)
    rows = []
    if version is not None:
        truths = truths_by_case(study) if with_truth else {}
        for sc, output in _outputs(study, version):
            rows += _score_rows(sc, output, endpoints, truths.get(sc.case_id))
    frame = pd.DataFrame(rows, columns=SCORE_COLUMNS).astype({"truth": "Int64", "score": float})
    return frame[columns]


def _score_rows(sc: StudyCase, output, endpoints: list[Endpoint], truth) -> list[dict]:
    rows = []
    for endpoint in endpoints:
        for value in endpoint_values(endpoint, {}, truth):
            p = _probability(output, score_label(endpoint, value.endpoint))
            if p is not None:
                rows.append(
                    {
                        "case": sc.case.code,
                        "endpoint": value.endpoint,
                        "truth": value.truth,
                        "score": p,
                    }
                )
    return rows
