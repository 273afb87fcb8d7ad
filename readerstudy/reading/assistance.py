"""The aided payload, served only when the protocol allows it.

Every route that carries model output for a reader (payload, heatmap volumes, mask) goes through
``assistance_gate``: the caller must hold the aided assignment and the protocol must allow
seeing its assistance (:data:`.protocol.SEE_ASSISTANCE`: started, study open, the previous
read of the case locked, a model configured). What is shown is the assistance configuration of
the assignment's condition. Anything else is answered as not found, with the same
message whatever the reason, so nothing about the output leaks.

The exposure is recorded once per read and model output; later views of the same output only
count (``views``, ``last_viewed_at``).
"""

from django.db.models import F
from django.utils import timezone

from readerstudy.ai import labels as model_labels
from readerstudy.ai import selectors as ai_selectors
from readerstudy.ai.models import ModelVersion
from readerstudy.ai.progress import series_progress
from readerstudy.ai.scales import overlay_scale
from readerstudy.cases.models import HematomaMask
from readerstudy.studies.errors import NotAvailable, ProtocolConflict
from readerstudy.studies.models import Assignment, AssistanceConfig

from . import interpretation, lookups, protocol
from .availability import read_facts
from .model_marks import model_marks
from .models import AssistanceExposure

NOT_AVAILABLE = NotAvailable("no_assistance", "no assistance is available for this assignment")


def assistance_gate(user, assignment_id: int) -> Assignment:
    assignment = lookups.aided(user.pk, assignment_id)
    if assignment is None:
        raise NOT_AVAILABLE
    config = lookups.assistance_of(assignment)
    facts = read_facts(
        assignment, model_configured=config is not None and config.model_version_id is not None
    )
    if not protocol.decide(protocol.SEE_ASSISTANCE, facts).allowed:
        raise NOT_AVAILABLE
    return assignment


def _config(assignment: Assignment) -> AssistanceConfig:
    """The assistance configuration of the assignment's condition (the gate has refused an
    assignment without one)."""
    config = lookups.assistance_of(assignment)
    if config is None:
        raise NOT_AVAILABLE
    return config


def _model(assignment: Assignment) -> ModelVersion:
    """The condition's model (the gate has refused a condition without one)."""
    version = _config(assignment).model_version
    if version is None:
        raise NOT_AVAILABLE
    return version


def _output_for(assignment: Assignment):
    output = ai_selectors.latest_output(
        series=assignment.study_case.case.primary_series_id, model_version=_model(assignment)
    )
    if output is None:
        # The reader may see the output now, so how far the model is reveals nothing.
        progress = series_progress(assignment.study_case.case.primary_series_id, _model(assignment))
        raise ProtocolConflict(
            "assistance_pending", f"The model output is not ready: {progress.describe()}."
        )
    return output


def _shown_labels(config: AssistanceConfig, version: ModelVersion) -> list[model_labels.Label]:
    """The model's scored labels the configuration selects (all when it names none); a
    multi-class class is selected by its own name or its head's."""
    chosen = set(config.labels or [])
    return [
        label
        for label in model_labels.scored_labels(version)
        if not chosen or label.name in chosen or label.head in chosen
    ]


def _label_probabilities(output, version, labels: list[model_labels.Label]) -> list[dict]:
    """One entry per binary / multi-label label; one per multi-class head with its classes."""
    entries: list[dict] = []
    groups: dict[str, dict] = {}
    for label in labels:
        value = model_labels.probability_of(output.probabilities or {}, label)
        if value is None:
            continue
        item = {"label": label.name, "display": label.display, "value": value}
        if label.kind != model_labels.MULTI_CLASS:
            entries.append(item)
            continue
        if label.head not in groups:
            groups[label.head] = {
                "label": label.head,
                "display": model_labels.head_display(version, label.head),
                "classes": [],
            }
            entries.append(groups[label.head])
        groups[label.head]["classes"].append(item)
    return entries


def _label_decisions(output, operating_point: str, labels: list[model_labels.Label]) -> dict:
    calls = (output.decisions or {}).get(operating_point) or {}
    calls = calls if isinstance(calls, dict) else {}
    return {
        "operating_point": operating_point,
        "values": {x.name: int(calls[x.name]) for x in labels if calls.get(x.name) is not None},
    }


def _legacy_decision(output, config: AssistanceConfig, version: ModelVersion) -> dict:
    """Today's single-label decision: the positive label, or the other label of its head."""
    positive = version.positive_label
    call = ((output.decisions or {}).get(config.operating_point) or {}).get(positive)
    label = None
    if call is not None:
        head = next((h for h in model_labels.heads(version) if positive in h.labels), None)
        others = [x for x in (head.labels if head else ()) if x != positive]
        label = positive if call else (others[0] if others else f"not_{positive}")
    threshold = version.operating_points.get(config.operating_point)
    return {
        "operating_point": config.operating_point,
        "threshold": threshold if isinstance(threshold, int | float) else None,
        "label": label,
    }


def _slice_strip(output, labels: list[model_labels.Label]) -> dict | None:
    values = output.slice_probabilities or {}
    names = [x.name for x in labels if x.name in values]
    if not names or not output.slice_uids:
        return None
    return {
        "labels": names,
        "sop_instance_uids": list(output.slice_uids),
        "values": {name: values[name] for name in names},
    }


def _heatmap_scale(config: AssistanceConfig, version: ModelVersion, heatmap) -> dict:
    """The colour scale of a heatmap, in the explainer's raw units when they are known.

    ``case``: the map's own range. ``global``: the model's fixed scale (the heatmap's
    ``params.global_scale``, else the manifest explainer's ``defaults.global_scale``); a map
    without one, or without its per-case ``params.scale``, falls back to its case range.
    """
    scale = overlay_scale(config.heatmap_scale, version, heatmap)
    if scale.mode == "global":
        lo = -scale.bound if heatmap.signed else 0.0
        return {"mode": "global", "range": [lo, scale.bound]}
    lo, hi = (float(v) for v in heatmap.value_range)
    if heatmap.signed:
        lo, hi = -max(abs(lo), abs(hi)), max(abs(lo), abs(hi))
    if hi <= lo:  # an empty map (all one value): the overlay's own range, as encode_overlay
        lo, hi = (-1.0, 1.0) if heatmap.signed else (lo, lo + 1.0)
    raw = (heatmap.params or {}).get("scale")
    factor = float(raw) if isinstance(raw, int | float) and raw > 0 else 1.0
    out: dict = {"mode": "case", "range": [lo * factor, hi * factor]}
    if scale.note:
        out["note"] = scale.note
    return out


def _colorbar(version, label: model_labels.Label, signed: bool) -> dict:
    """The colour bar's end words: a signed map of a two-label binary head points towards the
    head's other label at its low end (seed 000: "towards sICH"), other signed maps against the
    label."""
    low = ""
    if signed:
        head = next((h for h in model_labels.heads(version) if h.name == label.head), None)
        others = [n for n in (head.labels if head else ()) if n != label.name]
        if head is not None and head.kind == model_labels.BINARY and len(others) == 1:
            low = f"towards {model_labels.display_of(version, others[0])}"
        else:
            low = f"against {label.display}"
    return {"high": f"towards {label.display}", "low": low}


def _heatmaps(config, version, output, labels, assignment_id: int, url_for) -> list[dict]:
    if not config.heatmaps:
        return []
    shown = {x.name: x for x in labels}
    stored = {(h.method, h.label): h for h in output.heatmaps.all()}
    entries = []
    for method in config.heatmaps:
        for name, label in shown.items():
            heatmap = stored.get((method, name))
            if heatmap is None:
                continue
            entries.append(
                {
                    "method": method,
                    "label": name,
                    "display": label.display,
                    "signed": heatmap.signed,
                    "url": url_for("heatmap", assignment_id, method, name),
                    "opacity": config.heatmap_opacity,
                    "scale": _heatmap_scale(config, version, heatmap),
                    "colorbar": _colorbar(version, label, heatmap.signed),
                }
            )
    return entries


def _truth_mask(assignment: Assignment):
    """The case's ground-truth mask on its primary series, or None."""
    case = assignment.study_case.case
    mask = HematomaMask.objects.filter(case_id=case.pk).first()
    if mask is None or mask.series_id != case.primary_series_id:
        return None
    return mask


def _side_by_side(config: AssistanceConfig, assignment: Assignment, url_for) -> dict:
    allowed = bool(config.side_by_side)
    url = None
    if allowed and config.show_truth_mask_side_by_side and _truth_mask(assignment) is not None:
        url = url_for("truth_mask", assignment.pk, None, None)
    return {"allowed": allowed, "truth_mask_url": url}


def assistance_payload(user, assignment_id: int, *, url_for) -> dict:
    """What the aided view shows, as configured; records the exposure (provenance).

    ``url_for(kind, assignment_id, method, label)`` names the overlay routes.
    """
    assignment = assistance_gate(user, assignment_id)
    config = _config(assignment)
    output = _output_for(assignment)
    version = _model(assignment)
    positive = version.positive_label
    labels = _shown_labels(config, version)
    payload: dict = {
        "assignment": assignment.pk,
        "positive_label": positive,
        "labels": [x.as_dict() for x in labels],
    }
    shown: dict = {"labels": [x.name for x in labels]}
    if config.show_probability:
        display = model_labels.display_of(version, positive)
        payload["probability"] = {
            "label": positive,
            "meaning": f"probability of {display}",
            "value": output.probabilities[positive],
        }
        payload["label_probabilities"] = _label_probabilities(output, version, labels)
        shown["probability"] = True
    if config.show_decision:
        payload["decision"] = _legacy_decision(output, config, version)
        payload["label_decisions"] = _label_decisions(output, config.operating_point, labels)
        shown["decision"] = config.operating_point
    strip = _slice_strip(output, labels) if config.show_slice_strip else None
    payload["slice_strip"] = strip
    shown["slice_strip"] = strip["labels"] if strip else []
    payload["heatmaps"] = _heatmaps(config, version, output, labels, assignment.pk, url_for)
    shown["heatmaps"] = list(dict.fromkeys(h["method"] for h in payload["heatmaps"]))
    shown["heatmap_labels"] = [f"{h['method']}:{h['label']}" for h in payload["heatmaps"]]
    if config.show_mask_outline and output.mask:
        payload["mask"] = {"url": url_for("mask", assignment.pk, None, None)}
        shown["mask"] = True
    payload["side_by_side"] = _side_by_side(config, assignment, url_for)
    shown["side_by_side"] = payload["side_by_side"]["allowed"]
    shown["truth_mask"] = payload["side_by_side"]["truth_mask_url"] is not None
    _interpretation(config, assignment, output, positive, payload, shown)
    series_id = assignment.study_case.case.primary_series_id
    if config.show_model_marks and output.mask and series_id is not None:
        payload["model_marks"] = model_marks(output, positive, series_id)
        shown["model_marks"] = len(payload["model_marks"])
    if config.show_model_version:
        payload["model"] = {
            "id": version.model_id,
            "version": version.version,
            "name": version.name,
        }
    record_exposure(assignment, version, output, shown)
    return payload


def _interpretation(config, assignment, output, positive, payload: dict, shown: dict) -> None:
    """The nomogram, feature importance and clinical data, each only when configured (and,
    for the model's parts, present in its output)."""
    if config.show_nomogram and output.nomogram:
        payload["nomogram"], shown["nomogram"] = interpretation.nomogram(output, positive)
    if config.show_feature_importance and output.features:
        payload["feature_importance"], shown["feature_importance"] = (
            interpretation.feature_importance(output)
        )
    if config.show_clinical:
        payload["clinical"], shown["clinical"] = interpretation.clinical(
            assignment.study_case.case_id, list(config.show_clinical)
        )


def record_exposure(assignment: Assignment, version, output, shown: dict) -> AssistanceExposure:
    """The first exposure of this read to this output, or one more view of it.

    Concurrent first views race on the (assignment, inference output) constraint;
    ``get_or_create`` turns the loser's failed insert into a read of the winner's row, and the
    loser counts its view there (an atomic ``F()`` update).
    """
    now = timezone.now()
    exposure, created = AssistanceExposure.objects.get_or_create(
        assignment=assignment,
        inference_output=output,
        defaults={
            "model_version": version,
            "shown": shown,
            "served_at": now,
            "last_viewed_at": now,
        },
    )
    if not created:
        AssistanceExposure.objects.filter(pk=exposure.pk).update(
            views=F("views") + 1, last_viewed_at=now
        )
    return exposure


def assistance_volume(
    user, assignment_id: int, kind: str, method: str | None = None, label: str | None = None
):
    """(descriptor, bytes) of a heatmap, the model's mask or the truth mask, in the viewer's
    overlay format. A heatmap without ``label`` is the positive label's (the older route)."""
    assignment = assistance_gate(user, assignment_id)
    config = _config(assignment)
    output = _output_for(assignment)
    if kind == "mask":
        if not (config.show_mask_outline and output.mask):
            raise NOT_AVAILABLE
        return ai_selectors.mask_overlay(output)
    if kind == "truth_mask":
        mask = _truth_mask(assignment)
        if not (config.side_by_side and config.show_truth_mask_side_by_side) or mask is None:
            raise NOT_AVAILABLE
        return ai_selectors.file_mask_overlay(mask.file)
    version = _model(assignment)
    label = label or version.positive_label
    if method not in config.heatmaps or label not in {
        x.name for x in _shown_labels(config, version)
    }:
        raise NOT_AVAILABLE
    heatmap = output.heatmaps.filter(method=method, label=label).first()
    if heatmap is None:
        raise NOT_AVAILABLE
    scale = overlay_scale(config.heatmap_scale, version, heatmap)
    return ai_selectors.heatmap_overlay(heatmap, global_factor=scale.factor)
