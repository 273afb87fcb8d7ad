"""Practice scoring and feedback: the truth, the model output and the reader's answers.

Only practice cases pass through here; a study case's truth is never read by these functions'
callers (``practice_services`` resolves a practice case of the reader's own study first).
"""

from readerstudy.ai import labels as model_labels
from readerstudy.ai import selectors as ai_selectors
from readerstudy.studies.endpoints import endpoint_values
from readerstudy.studies.models import AssistanceConfig, EndpointKind, ReaderStudy

from .assistance import _label_probabilities, _legacy_decision, _shown_labels


def _endpoints(study: ReaderStudy) -> list:
    return list(study.endpoints.select_related("question", "rating_question").order_by("order"))


def _primary(endpoints: list):
    return next((e for e in endpoints if e.is_primary), endpoints[0] if endpoints else None)


def is_correct(study: ReaderStudy, answers: dict, truth) -> bool | None:
    """Whether ``answers`` match the truth of the study's primary endpoint (every label of a
    multi-label endpoint); None when the truth does not settle it."""
    endpoint = _primary(_endpoints(study))
    if endpoint is None or truth is None:
        return None
    values = endpoint_values(endpoint, answers, truth)
    if any(v.truth is None for v in values):
        return None
    return all(v.decision == v.truth for v in values)


def _label(endpoint, value) -> str:
    return next(
        (x.get("label") or x["value"] for x in endpoint.labels if x["value"] == value), value
    )


def _shown(endpoint, name: str, value) -> str:
    """A truth or decision value as the reader reads it."""
    if value is None:
        return "—"
    if endpoint.kind == EndpointKind.BINARY:
        return _label(endpoint, endpoint.labels[0 if value else 1]["value"])
    if endpoint.kind == EndpointKind.MULTI_LABEL:
        return "present" if value else "absent"
    return _label(endpoint, value)


def endpoint_rows(study: ReaderStudy, truth, answers_by_condition: dict[str, dict]) -> list[dict]:
    """One row per analysed value: its name, the truth and each condition's answer."""
    rows = []
    for endpoint in _endpoints(study):
        per_condition = {
            code: {v.endpoint: v for v in endpoint_values(endpoint, answers, truth)}
            for code, answers in answers_by_condition.items()
        }
        for value in endpoint_values(endpoint, {}, truth):
            name = value.endpoint
            title = endpoint.name if endpoint.kind != EndpointKind.MULTI_LABEL else (
                f"{endpoint.name}: {_label(endpoint, name)}"
            )  # fmt: skip
            answers = {}
            for code, values in per_condition.items():
                given = values.get(name)
                decision = given.decision if given else None
                answers[code] = {
                    "value": _shown(endpoint, name, decision),
                    "correct": None if value.truth is None or decision is None
                    else decision == value.truth,
                }  # fmt: skip
            rows.append(
                {
                    "endpoint": name,
                    "name": title,
                    "primary": endpoint.is_primary,
                    "truth": _shown(endpoint, name, value.truth),
                    "answers": answers,
                }
            )
    return rows


def model_summary(config: AssistanceConfig | None, case, *, as_configured: bool) -> dict:
    """The model's output for a practice case: its probability and call (``as_configured``:
    only what the condition's view shows), or why there is none."""
    version = config.model_version if config else None
    if version is None:
        return {"available": False, "reason": "this study shows no model output"}
    output = ai_selectors.latest_output(series=case.primary_series_id, model_version=version)
    if output is None:
        return {"available": False, "reason": "the model has not run on this case yet"}
    positive = version.positive_label
    summary: dict = {"available": True, "model": f"{version.name} {version.version}"}
    if config and (config.show_probability or not as_configured):
        summary["probability"] = (output.probabilities or {}).get(positive)
        summary["meaning"] = f"probability of {model_labels.display_of(version, positive)}"
        summary["labels"] = _label_probabilities(output, version, _shown_labels(config, version))
    if config and (config.show_decision or not as_configured):
        decision = _legacy_decision(output, config, version)
        label = decision["label"]
        summary["decision"] = {
            "operating_point": decision["operating_point"],
            "label": label,
            "display": model_labels.display_of(version, label) if label else None,
        }
    return summary


def feedback(study: ReaderStudy, practice_case, answers_by_condition: dict[str, dict]) -> dict:
    """What the reader sees after a practice answer, for one practice case."""
    case = practice_case.case
    truth = getattr(case, "ground_truth", None)
    try:
        config = study.assistance
    except AssistanceConfig.DoesNotExist:
        config = None
    unaided = answers_by_condition.get("unaided")
    return {
        "practice_case": practice_case.pk,
        "rows": endpoint_rows(study, truth, answers_by_condition),
        "correct": None if unaided is None else is_correct(study, unaided, truth),
        "model": model_summary(config, case, as_configured=False),
    }


def item_body(state, item) -> dict:
    """The next practice read as the workspace opens it: images, questions, the reader's own
    unaided answer to start an aided read from, and (aided) the model output as configured."""
    case = item.practice_case.case
    series = case.primary_series
    images = None
    if series is not None:
        images = {
            "dicomweb_root": "/dicomweb",
            "study_instance_uid": series.study_instance_uid,
            "series_instance_uid": series.series_instance_uid,
            "num_slices": series.num_slices,
        }
    aided = item.condition.is_aided
    prefill = None
    if aided:
        prefill = next(
            (
                a.answers
                for a in state.answers
                if a.practice_case_id == item.practice_case.pk and a.condition == "unaided"
            ),
            None,
        )
    config = getattr(item.condition, "assistance", None) if aided else None
    return {
        "practice_case": item.practice_case.pk,
        "number": item.number,
        "of": len(state.cases),
        "condition": item.condition.code,
        "condition_name": item.condition.name,
        "aided": aided,
        "images": images,
        "prefill": prefill,
        "model": model_summary(config, case, as_configured=True) if aided else None,
    }
