"""The aided payload, served only when the protocol allows it.

Every route that carries model output for a reader (payload, heatmap volumes, mask) goes through
``assistance_gate``: the caller must hold the aided assignment, it must be started and not
blocked, and its unaided prerequisite must be locked. Anything else is answered as not found,
with the same message whatever the reason, so nothing about the output leaks.
"""

from readerstudy.ai import selectors as ai_selectors
from readerstudy.ai.progress import series_progress
from readerstudy.core.compiled import CompiledQuery
from readerstudy.studies.errors import NotAvailable, ProtocolConflict
from readerstudy.studies.models import Assignment, Condition, ReaderStudy

from .models import AssistanceExposure

NOT_AVAILABLE = NotAvailable("no_assistance", "no assistance is available for this assignment")


_AIDED_ASSIGNMENT = CompiledQuery(
    lambda user, pk: Assignment.objects.select_related(
        "study__assistance__model_version", "prerequisite", "study_case__case"
    ).filter(pk=pk, reader__user=user)[:1],
    user=int,
    pk=int,
)


def assistance_gate(user, assignment_id: int) -> Assignment:
    assignment = _AIDED_ASSIGNMENT.first(user=user.pk, pk=assignment_id)
    if (
        assignment is None
        or assignment.condition != Condition.AIDED
        or assignment.study.status != ReaderStudy.Status.OPEN
        or assignment.state == Assignment.State.PENDING
        or (assignment.prerequisite_id and assignment.prerequisite.state != Assignment.State.LOCKED)
        or assignment.study.assistance.model_version is None
    ):
        raise NOT_AVAILABLE
    return assignment


def _output_for(assignment: Assignment):
    output = ai_selectors.latest_output(
        series=assignment.study_case.case.primary_series_id,
        model_version=assignment.study.assistance.model_version,
    )
    if output is None:
        # The reader may see the output now, so how far the model is reveals nothing.
        progress = series_progress(
            assignment.study_case.case.primary_series_id, assignment.study.assistance.model_version
        )
        raise ProtocolConflict(
            "assistance_pending", f"The model output is not ready: {progress.describe()}."
        )
    return output


def assistance_payload(user, assignment_id: int, *, url_for) -> dict:
    """What the aided view shows, as configured; records the exposure (provenance)."""
    assignment = assistance_gate(user, assignment_id)
    config = assignment.study.assistance
    output = _output_for(assignment)
    version = config.model_version
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
    AssistanceExposure.objects.create(
        assignment=assignment, model_version=version, inference_output=output, shown=shown
    )
    return payload


def assistance_volume(user, assignment_id: int, kind: str, method: str | None):
    """(descriptor, bytes) of a heatmap or the mask, in the viewer's overlay format."""
    assignment = assistance_gate(user, assignment_id)
    config = assignment.study.assistance
    output = _output_for(assignment)
    if kind == "mask":
        if not (config.show_mask_outline and output.mask):
            raise NOT_AVAILABLE
        return ai_selectors.mask_overlay(output)
    heatmap = output.heatmaps.filter(method=method).first()
    if heatmap is None or method not in config.heatmaps:
        raise NOT_AVAILABLE
    return ai_selectors.heatmap_overlay(heatmap)
