"""Practice scoring and feedback: the truth, the model output and the reader's answers.

Only practice cases pass through here; a study case's truth is never read by these functions'
callers (``practice_services`` resolves a practice case of the reader's own study first).

Heatmaps take the aided view's path: the entries are built by the aided payload's own code
(:func:`.assistance._heatmaps`) from the assistance configuration of the practice's aided
condition, and their volumes (:func:`practice_heatmap`) are encoded as the aided view's. They
appear only where that condition shows heatmaps, in the aided practice read and in the
feedback: both come after the reader's unaided practice answer of the case is stored (a
practice answer is final when submitted), so no heatmap reaches an unaided read before it.
"""

from collections.abc import Callable

from django.urls import reverse

from readerstudy.ai import labels as model_labels
from readerstudy.ai import selectors as ai_selectors
from readerstudy.ai.scales import overlay_scale
from readerstudy.studies.endpoints import endpoint_values
from readerstudy.studies.errors import NotAvailable
from readerstudy.studies.models import AssistanceConfig, EndpointKind, ReaderStudy

from .assistance import _heatmaps, _label_probabilities, _legacy_decision, _shown_labels

#: ``url_for(practice_case_id, method, label)``: the route of a practice heatmap volume
HeatmapUrl = Callable[[int, str, str], str]
NO_HEATMAP = NotAvailable("not_found", "no such practice heatmap")


def heatmap_url(study_id: int) -> HeatmapUrl:
    """The practice heatmap route of a study, as ``url_for``."""
    return lambda pk, method, label: reverse(
        "reading-practice-heatmap", args=[study_id, pk, method, label]
    )


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


def aided_config(aided_condition) -> AssistanceConfig | None:
    """The assistance configuration of the practice's aided condition (None: no aided read)."""
    if aided_condition is None:
        return None
    try:
        return aided_condition.assistance
    except AssistanceConfig.DoesNotExist:
        return None


def heatmap_entries(config: AssistanceConfig | None, practice_case, url_for: HeatmapUrl) -> list:
    """The heatmaps the aided condition shows for this practice case, as the aided payload
    lists them (method, label, display, signed, url, opacity, scale, colour bar)."""
    version = config.model_version if config else None
    if config is None or version is None or not config.heatmaps:
        return []
    output = ai_selectors.latest_output(
        series=practice_case.case.primary_series_id, model_version=version
    )
    if output is None:
        return []
    labels = _shown_labels(config, version)
    return _heatmaps(
        config, version, output, labels, practice_case.pk,
        lambda _kind, pk, method, label: url_for(pk, method, label),
    )  # fmt: skip


def practice_heatmap(config: AssistanceConfig | None, practice_case, method: str, label: str):
    """(descriptor, bytes) of a heatmap the aided condition shows, encoded as the aided view's
    volumes; anything else is not found (the caller has checked the reader may see it)."""
    version = config.model_version if config else None
    if config is None or version is None or method not in (config.heatmaps or []):
        raise NO_HEATMAP
    if label not in {x.name for x in _shown_labels(config, version)}:
        raise NO_HEATMAP
    output = ai_selectors.latest_output(
        series=practice_case.case.primary_series_id, model_version=version
    )
    heatmap = output.heatmaps.filter(method=method, label=label).first() if output else None
    if heatmap is None:
        raise NO_HEATMAP
    scale = overlay_scale(config.heatmap_scale, version, heatmap)
    return ai_selectors.heatmap_overlay(heatmap, global_factor=scale.factor)


def _with_heatmaps(summary: dict, config, practice_case, url_for: HeatmapUrl | None) -> dict:
    if summary.get("available") and url_for is not None:
        entries = heatmap_entries(config, practice_case, url_for)
        if entries:
            summary["heatmaps"] = entries
            summary["positive_label"] = config.model_version.positive_label
    return summary


def feedback(
    study: ReaderStudy,
    practice_case,
    answers_by_condition: dict[str, dict],
    *,
    aided_condition=None,
    url_for: HeatmapUrl | None = None,
) -> dict:
    """What the reader sees after a practice answer, for one practice case: the truth, the
    reader's answers, the model output and (where the aided condition shows them) its
    heatmaps."""
    case = practice_case.case
    truth = getattr(case, "ground_truth", None)
    try:
        config = study.assistance
    except AssistanceConfig.DoesNotExist:
        config = None
    unaided = answers_by_condition.get("unaided")
    model = model_summary(config, case, as_configured=False)
    return {
        "practice_case": practice_case.pk,
        "rows": endpoint_rows(study, truth, answers_by_condition),
        "correct": None if unaided is None else is_correct(study, unaided, truth),
        "model": _with_heatmaps(model, aided_config(aided_condition), practice_case, url_for),
    }


def item_body(state, item, url_for: HeatmapUrl | None = None) -> dict:
    """The next practice read as the workspace opens it: images, questions, the reader's own
    unaided answer to start an aided read from, and (aided) the model output as configured,
    its heatmaps included. An unaided read carries nothing of the model."""
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
    config = aided_config(item.condition) if aided else None
    model = None
    if aided:
        model = _with_heatmaps(
            model_summary(config, case, as_configured=True), config, item.practice_case, url_for
        )
    return {
        "practice_case": item.practice_case.pk,
        "number": item.number,
        "of": len(state.cases),
        "condition": item.condition.code,
        "condition_name": item.condition.name,
        "aided": aided,
        "images": images,
        "prefill": prefill,
        "model": model,
    }
