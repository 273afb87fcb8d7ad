"""A study's endpoints as the exports see them: analysis names, truth, and the model's labels.

An endpoint yields one or more *analysis endpoints* (``endpoint_values``): a binary or
multi-class endpoint one (its code), a multi-label endpoint one per label. READS carries an
``endpoint`` column whenever a study has more than one analysis endpoint or any non-binary one;
a single binary endpoint keeps the single-endpoint columns.
"""

from readerstudy.cases.models import GroundTruth
from readerstudy.studies.endpoints import endpoint_values
from readerstudy.studies.models import Endpoint, EndpointKind, ReaderStudy
from readerstudy.studies.truth_source import study_truths


def study_endpoints(study: ReaderStudy) -> list[Endpoint]:
    return list(study.endpoints.select_related("question", "rating_question"))


def analysis_names(endpoint: Endpoint) -> list[str]:
    return [v.endpoint for v in endpoint_values(endpoint, {}, None)]


def has_endpoint_column(endpoints: list[Endpoint]) -> bool:
    return len(endpoints) > 1 or any(ep.kind != EndpointKind.BINARY for ep in endpoints)


def primary_endpoint(endpoints: list[Endpoint]) -> Endpoint | None:
    return next((ep for ep in endpoints if ep.is_primary), endpoints[0] if endpoints else None)


def primary_analysis_name(endpoints: list[Endpoint]) -> str | None:
    """The analysis endpoint the report's top-level keys show: the primary endpoint's (its
    first label for a multi-label endpoint)."""
    primary = primary_endpoint(endpoints)
    return analysis_names(primary)[0] if primary is not None else None


def score_label(endpoint: Endpoint, name: str) -> str | None:
    """The label whose model probability scores the analysis endpoint ``name``: a binary
    endpoint's positive label, a multi-label endpoint's own label; None for multi-class."""
    if endpoint.kind == EndpointKind.BINARY:
        return endpoint.labels[0]["value"] if endpoint.labels else None
    if endpoint.kind == EndpointKind.MULTI_LABEL:
        return name
    return None


def truths_by_case(study: ReaderStudy) -> dict[int, GroundTruth]:
    """The study's truth per case id: imported, or its truth panel's (``PanelTruth``)."""
    return study_truths(study)


def endpoint_label_text(endpoint: Endpoint | None) -> str:
    """A line for the report header: ``cvst_ich (positive) vs sich`` for a binary endpoint."""
    if endpoint is None:
        return "no endpoint defined"
    values = [label["value"] for label in endpoint.labels]
    if endpoint.kind == EndpointKind.BINARY and len(values) == 2:
        return f"{values[0]} (positive) vs {values[1]}"
    return f"{endpoint.code} ({endpoint.kind}: {', '.join(values)})"
