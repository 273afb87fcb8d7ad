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

from readerstudy.ai import selectors as ai_selectors
from readerstudy.ai.models import ModelVersion
from readerstudy.ai.progress import series_progress
from readerstudy.studies.errors import NotAvailable, ProtocolConflict
from readerstudy.studies.models import Assignment, AssistanceConfig

from . import lookups, protocol
from .availability import read_facts
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


def assistance_payload(user, assignment_id: int, *, url_for) -> dict:
    """What the aided view shows, as configured; records the exposure (provenance)."""
    assignment = assistance_gate(user, assignment_id)
    config = _config(assignment)
    output = _output_for(assignment)
    version = _model(assignment)
    positive = version.positive_label
    payload: dict = {"assignment": assignment.pk, "positive_label": positive}
    shown: dict = {}
    if config.show_probability:
        payload["probability"] = {
            "label": positive,
            "meaning": f"probability of {positive.upper().replace('_', '-')}",
            "value": output.probabilities[positive],
        }
        shown["probability"] = True
    if config.show_decision:
        payload["decision"] = {
            "operating_point": config.operating_point,
            "threshold": version.operating_points.get(config.operating_point),
            "label": output.decisions.get(config.operating_point),
        }
        shown["decision"] = config.operating_point
    available = {h.method: h for h in output.heatmaps.all()} if config.heatmaps else {}
    methods = [m for m in config.heatmaps if m in available]
    payload["heatmaps"] = [
        {
            "method": m,
            "signed": available[m].signed,
            "url": url_for("heatmap", assignment.pk, m),
            "opacity": config.heatmap_opacity,
        }
        for m in methods
    ]
    shown["heatmaps"] = methods
    if config.show_mask_outline and output.mask:
        payload["mask"] = {"url": url_for("mask", assignment.pk, None)}
        shown["mask"] = True
    if config.show_model_version:
        payload["model"] = {
            "id": version.model_id,
            "version": version.version,
            "name": version.name,
        }
    record_exposure(assignment, version, output, shown)
    return payload


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


def assistance_volume(user, assignment_id: int, kind: str, method: str | None):
    """(descriptor, bytes) of a heatmap or the mask, in the viewer's overlay format."""
    assignment = assistance_gate(user, assignment_id)
    config = _config(assignment)
    output = _output_for(assignment)
    if kind == "mask":
        if not (config.show_mask_outline and output.mask):
            raise NOT_AVAILABLE
        return ai_selectors.mask_overlay(output)
    heatmap = output.heatmaps.filter(method=method).first()
    if heatmap is None or method not in config.heatmaps:
        raise NOT_AVAILABLE
    return ai_selectors.heatmap_overlay(heatmap)
