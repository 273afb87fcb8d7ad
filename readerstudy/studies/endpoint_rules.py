"""The checks an endpoint definition passes: its kind, truth field, labels and questions.

Used when a coordinator sets endpoints and again when the study opens (questions may have been
edited since), so a study never opens with an endpoint its questions cannot answer.
"""

from django.utils.text import slugify

from .errors import StudyError
from .models import EndpointKind, QuestionType, TruthField

ANY = "any"
TRUTH_FIELDS: dict[str, set[str]] = {
    EndpointKind.BINARY: {TruthField.ETIOLOGY, TruthField.ICH_PRESENT},
    EndpointKind.MULTI_LABEL: {TruthField.SUBTYPES, TruthField.SLICE_LABELS},
    EndpointKind.MULTI_CLASS: {TruthField.LOCATION},
}
QUESTION_TYPES: dict[str, str] = {
    EndpointKind.BINARY: QuestionType.BINARY,
    EndpointKind.MULTI_LABEL: QuestionType.MULTI_LABEL,
    EndpointKind.MULTI_CLASS: QuestionType.SINGLE_CHOICE,
}
RATING_TYPES: dict[str, str] = {
    EndpointKind.BINARY: QuestionType.CONFIDENCE_100,
    EndpointKind.MULTI_LABEL: QuestionType.CONFIDENCE_PER_LABEL,
}


def _fail(code: str, endpoint: str, message: str) -> StudyError:
    return StudyError(code, f"endpoint {endpoint!r}: {message}")


def clean_labels(code: str, labels) -> list[dict]:
    """``[{"value", "label"}]`` with unique, non-empty values; a missing label is the value."""
    if not isinstance(labels, list) or not all(isinstance(item, dict) for item in labels):
        raise _fail("bad_endpoint", code, 'labels must be a list of {"value", "label"}')
    cleaned = []
    for item in labels:
        value = item.get("value")
        if not isinstance(value, str) or not value.strip():
            raise _fail("bad_endpoint", code, "every label needs a value")
        cleaned.append({"value": value, "label": str(item.get("label") or value)})
    values = [item["value"] for item in cleaned]
    if len(set(values)) != len(values):
        raise _fail("bad_endpoint", code, "label values must be unique")
    return cleaned


def _check_labels(code: str, kind: str, values: list[str]) -> None:
    if kind == EndpointKind.BINARY and len(values) != 2:
        raise _fail("bad_endpoint", code, "a binary endpoint has exactly two labels")
    if kind == EndpointKind.MULTI_LABEL and not values:
        raise _fail("bad_endpoint", code, "a multi-label endpoint needs at least one label")
    if kind == EndpointKind.MULTI_CLASS and len(values) < 2:
        raise _fail("bad_endpoint", code, "a multi-class endpoint needs at least two classes")


def _option_values(question) -> list[str]:
    return [option["value"] for option in question.options or []]


def _check_question(code: str, kind: str, values: list[str], question) -> None:
    expected = QUESTION_TYPES[kind]
    if question.type != expected:
        raise _fail(
            "endpoint_question", code,
            f"question {question.code!r} is {question.type}; a {kind} endpoint needs {expected}",
        )  # fmt: skip
    options = set(_option_values(question))
    if kind == EndpointKind.MULTI_LABEL:
        missing = sorted(set(values) - {ANY} - options)
        if missing:
            raise _fail(
                "endpoint_question", code,
                f"question {question.code!r} has no option for {', '.join(missing)}",
            )  # fmt: skip
    elif options != set(values):
        raise _fail(
            "endpoint_question", code,
            f"the options of question {question.code!r} ({', '.join(sorted(options))}) "
            f"must equal the endpoint's labels ({', '.join(values)})",
        )  # fmt: skip


def _check_rating(code: str, kind: str, values: list[str], question) -> None:
    expected = RATING_TYPES.get(kind)
    if expected is None:
        raise _fail("endpoint_question", code, f"a {kind} endpoint takes no rating question")
    if question.type != expected:
        raise _fail(
            "endpoint_question", code,
            f"rating question {question.code!r} is {question.type}; it must be {expected}",
        )  # fmt: skip
    if kind == EndpointKind.MULTI_LABEL:
        missing = sorted(set(values) - set(_option_values(question)))
        if missing:
            raise _fail(
                "endpoint_question", code,
                f"rating question {question.code!r} rates no {', '.join(missing)}",
            )  # fmt: skip


def _question(code: str, questions: dict, question_code, role: str):
    if question_code in (None, ""):
        return None
    question = questions.get(question_code)
    if question is None:
        raise _fail("endpoint_question", code, f"{role} {question_code!r} is not in the study")
    return question


def check_endpoint(spec: dict, questions: dict) -> dict:
    """Check one endpoint spec against the study's questions (by code); the cleaned spec."""
    code = spec.get("code")
    if not isinstance(code, str) or not code or slugify(code) != code.lower() or len(code) > 64:
        raise StudyError("bad_endpoint", f"endpoint code {code!r} must be a slug (64 at most)")
    name = str(spec.get("name") or code)
    if len(name) > 200:
        raise _fail("bad_endpoint", code, "its name has more than 200 characters")
    kind, field = spec.get("kind"), spec.get("truth_field")
    if kind not in EndpointKind.values:
        raise _fail("bad_endpoint", code, f"unknown kind {kind!r} ({', '.join(EndpointKind)})")
    if field not in TRUTH_FIELDS[kind]:
        allowed = ", ".join(sorted(TRUTH_FIELDS[kind]))
        raise _fail("bad_endpoint", code, f"a {kind} endpoint reads its truth from {allowed}")
    labels = clean_labels(code, spec.get("labels"))
    values = [label["value"] for label in labels]
    _check_labels(code, kind, values)
    question = _question(code, questions, spec.get("question"), "question")
    if question is not None:
        _check_question(code, kind, values, question)
    rating = _question(code, questions, spec.get("rating_question"), "rating question")
    if rating is not None:
        _check_rating(code, kind, values, rating)
    return {
        "code": code, "name": name, "kind": kind, "truth_field": field,
        "labels": labels, "question": question, "rating_question": rating,
        "is_primary": bool(spec.get("is_primary", False)),
    }  # fmt: skip


def check_endpoints(specs: list[dict], questions: dict) -> list[dict]:
    """Check a study's endpoint list: unique codes, each valid, exactly one primary."""
    if not isinstance(specs, list) or not specs:
        raise StudyError("no_endpoint", "a study needs at least one endpoint")
    cleaned = [check_endpoint(spec, questions) for spec in specs]
    codes = [spec["code"] for spec in cleaned]
    repeated = sorted({c for c in codes if codes.count(c) > 1})
    if repeated:
        raise StudyError(
            "duplicate_endpoint", f"endpoint codes must be unique: {', '.join(repeated)} repeated"
        )
    primary = [spec["code"] for spec in cleaned if spec["is_primary"]]
    if len(primary) != 1:
        raise StudyError(
            "primary_endpoint",
            f"exactly one endpoint must be primary ({', '.join(primary) or 'none'} marked)",
        )
    return cleaned
