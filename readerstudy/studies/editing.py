"""Single-item edits of a draft's questions and endpoints, on top of the replace-all services.

Each edit reads the current specs, changes one item and hands the whole list to
``services.set_questions`` / ``services.set_endpoints``, which validate it and refuse drafts
only; one transaction, so a refused edit stores nothing.
"""

from django.db import transaction

from . import services
from .errors import ProtocolConflict, StudyError
from .models import ReaderStudy
from .selectors import endpoint_specs, question_specs


def _index(specs: list[dict], code: str, what: str) -> int:
    for i, spec in enumerate(specs):
        if spec["code"] == code:
            return i
    raise StudyError(f"unknown_{what}", f"the study has no {what} {code!r}")


def _store_questions(study: ReaderStudy, specs: list[dict], renamed=None) -> None:
    """``set_questions``; endpoints follow a question renamed ``(old, new)`` (they follow codes)."""
    if renamed is None:
        services.set_questions(study, specs)
        return
    old, new = renamed
    answering = list(study.endpoints.filter(question__code=old).values_list("pk", flat=True))
    rating = list(study.endpoints.filter(rating_question__code=old).values_list("pk", flat=True))
    services.set_questions(study, specs)
    question = study.questions.get(code=new)
    for endpoint in study.endpoints.filter(pk__in={*answering, *rating}):  # saved: audited
        if endpoint.pk in answering:
            endpoint.question = question
        if endpoint.pk in rating:
            endpoint.rating_question = question
        endpoint.save(update_fields=["question", "rating_question"])


@transaction.atomic
def save_question(study: ReaderStudy, spec: dict, *, replacing: str | None = None) -> None:
    """Add ``spec`` at the end, or put it in the place of question ``replacing``.

    Conditions of later questions and endpoints follow a renamed question. Endpoints are
    checked against the questions again when the study opens, not here: a question's options
    and its endpoint's labels are edited one after the other.
    """
    specs = question_specs(study)
    if replacing is None:
        specs.append(spec)
        _store_questions(study, specs)
        return
    specs[_index(specs, replacing, "question")] = spec
    if spec["code"] == replacing:
        _store_questions(study, specs)
        return
    for other in specs:
        if (other.get("show_if") or {}).get("question") == replacing:
            other["show_if"] = {**other["show_if"], "question": spec["code"]}
    _store_questions(study, specs, renamed=(replacing, spec["code"]))


def _users_of(code: str, specs: list[dict], endpoints: list[dict]) -> list[str]:
    users = [
        f"the condition of question {s['code']!r}"
        for s in specs
        if (s.get("show_if") or {}).get("question") == code
    ]
    users += [
        f"endpoint {e['code']!r}"
        for e in endpoints
        if code in (e.get("question"), e.get("rating_question"))
    ]
    return users


@transaction.atomic
def delete_question(study: ReaderStudy, code: str) -> None:
    if study.is_frozen:
        raise ProtocolConflict(
            "design_frozen", f"the study is {study.status}: its design can no longer change"
        )
    specs, endpoints = question_specs(study), endpoint_specs(study)
    del specs[_index(specs, code, "question")]
    users = _users_of(code, specs, endpoints)
    if users:
        raise StudyError(
            "question_in_use",
            f"question {code!r} is used by {', '.join(users)}: change or delete those first",
        )
    _store_questions(study, specs)


@transaction.atomic
def move_question(study: ReaderStudy, code: str, offset: int) -> None:
    """Move a question ``offset`` places (-1 up, +1 down); the ends stay where they are."""
    specs = question_specs(study)
    i = _index(specs, code, "question")
    j = i + offset
    if not 0 <= j < len(specs):
        return
    specs[i], specs[j] = specs[j], specs[i]
    _store_questions(study, specs)


@transaction.atomic
def save_endpoint(study: ReaderStudy, spec: dict, *, replacing: str | None = None) -> None:
    """Add ``spec`` or put it in the place of endpoint ``replacing``; a primary one becomes the
    study's only primary endpoint."""
    endpoints = endpoint_specs(study)
    if replacing is None:
        endpoints.append(spec)
    else:
        endpoints[_index(endpoints, replacing, "endpoint")] = spec
    if spec.get("is_primary"):
        for other in endpoints:
            other["is_primary"] = other is spec
    services.set_endpoints(study, endpoints)


@transaction.atomic
def delete_endpoint(study: ReaderStudy, code: str) -> None:
    endpoints = endpoint_specs(study)
    del endpoints[_index(endpoints, code, "endpoint")]
    services.set_endpoints(study, endpoints)
