"""An endpoint's analysis values for one read: truth, decision and rating per analysed endpoint.

A binary or multi-class endpoint yields one value named by its code; a multi-label endpoint
yields one binary value per label, named by the label (``any`` = ICH present), which is how
the analysis' READS table holds them (one row per label).
"""

from dataclasses import dataclass

from .models import EndpointKind, TruthField

ANY = "any"


@dataclass(frozen=True)
class EndpointValue:
    endpoint: str  # analysis endpoint name: code (binary, multi_class) or label (multi_label)
    truth: int | str | None  # 0/1, or a class name; None when the case has no truth for it
    decision: int | str | None  # None when not answered (or the question was hidden)
    rating: float | None  # 0-100 where a confidence exists, else None


def _values(endpoint) -> list[str]:
    return [label["value"] for label in endpoint.labels]


def _answer(question, answers: dict):
    return None if question is None else answers.get(question.code)


def _slice_label_set(truth) -> set[str] | None:
    slices = (truth.slice_labels or {}).get("slices")
    if not isinstance(slices, dict):
        return None
    return {str(label).lower() for labels in slices.values() for label in labels}


def _present_labels(truth, field: str) -> tuple[bool | None, set[str]]:
    """(ICH present, lower-cased labels present) of a case, read from subtypes or slice labels."""
    if field == TruthField.SLICE_LABELS:
        labels = _slice_label_set(truth)
        return (None, set()) if labels is None else (bool(labels), labels)
    if truth.ich_present is None:
        return None, set()
    return truth.ich_present, {str(s).lower() for s in truth.subtypes or []}


def _binary_truth(endpoint, truth) -> int | None:
    if endpoint.truth_field == TruthField.ETIOLOGY:
        values = _values(endpoint)
        return int(truth.etiology == values[0]) if truth.etiology in values else None
    if endpoint.truth_field == TruthField.ICH_PRESENT:
        return None if truth.ich_present is None else int(truth.ich_present)
    present, labels = _present_labels(truth, endpoint.truth_field)
    return None if present is None else int(present)


def _class_truth(endpoint, truth) -> str | None:
    location = (getattr(truth, endpoint.truth_field, "") or "").lower()
    return next((v for v in _values(endpoint) if v.lower() == location), None)


def truth_present(endpoint, truth) -> bool:
    """Whether the case's truth settles the endpoint (a case without ICH settles a location)."""
    if truth is None:
        return False
    if endpoint.kind == EndpointKind.BINARY:
        return _binary_truth(endpoint, truth) is not None
    if endpoint.kind == EndpointKind.MULTI_LABEL:
        return _present_labels(truth, endpoint.truth_field)[0] is not None
    return _class_truth(endpoint, truth) is not None or truth.ich_present is False


def _rating(answer) -> float | None:
    return None if answer is None else float(answer)


def _binary(endpoint, answers: dict, truth) -> list[EndpointValue]:
    answer = _answer(endpoint.question, answers)
    decision = None if answer is None else int(answer == _values(endpoint)[0])
    return [
        EndpointValue(
            endpoint=endpoint.code,
            truth=None if truth is None else _binary_truth(endpoint, truth),
            decision=decision,
            rating=_rating(_answer(endpoint.rating_question, answers)),
        )
    ]


def _multi_label(endpoint, answers: dict, truth) -> list[EndpointValue]:
    answer = _answer(endpoint.question, answers)
    ratings = _answer(endpoint.rating_question, answers) or {}
    present, labels = (
        (None, set()) if truth is None else _present_labels(truth, endpoint.truth_field)
    )
    said_present = None if answer is None else bool(answer.get("present"))
    said = {str(s).lower() for s in (answer or {}).get("subtypes") or []} if said_present else set()
    rows = []
    for value in _values(endpoint):
        is_any = value == ANY
        if present is None:
            label_truth = None
        else:
            label_truth = int(present) if is_any else int(present and value.lower() in labels)
        if said_present is None:
            decision = None
        else:
            decision = int(said_present) if is_any else int(value.lower() in said)
        rows.append(EndpointValue(value, label_truth, decision, _rating(ratings.get(value))))
    return rows


def _multi_class(endpoint, answers: dict, truth) -> list[EndpointValue]:
    answer = _answer(endpoint.question, answers)
    return [
        EndpointValue(
            endpoint=endpoint.code,
            truth=None if truth is None else _class_truth(endpoint, truth),
            decision=answer,
            rating=None,
        )
    ]


_BY_KIND = {
    EndpointKind.BINARY: _binary,
    EndpointKind.MULTI_LABEL: _multi_label,
    EndpointKind.MULTI_CLASS: _multi_class,
}


def endpoint_values(endpoint, answers: dict, truth) -> list[EndpointValue]:
    """The analysed values of one read's ``answers`` (by question code); ``truth``: GroundTruth."""
    return _BY_KIND[endpoint.kind](endpoint, answers or {}, truth)
