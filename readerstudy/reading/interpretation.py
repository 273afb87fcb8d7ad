"""The aided payload's interpretation parts (seed 001): the nomogram with this case's points,
the feature-importance chart and the clinical data a study deliberately shows.

Each builder returns ``(payload part, what was shown)``; the second goes into the exposure's
provenance, so an analysis can tell exactly which points, features and clinical values a
reader saw.
"""

from typing import Any

from readerstudy.ai.covariates import DERIVED
from readerstudy.cases.clinical import catalogue
from readerstudy.cases.models import ClinicalRecord


def _display(name: str, variables: dict) -> str:
    """A catalogue variable's label (also for a model-side name of one, e.g. ``seizure``);
    ``<x>_signature`` as "<X> signature"; else the name in words."""
    variable = variables.get(name) or variables.get(DERIVED.get(name, (name,))[0])
    if variable is not None and variable.label:
        return variable.label
    if name.endswith("_signature"):
        return f"{name.removesuffix('_signature').upper()} signature"
    return name.replace("_", " ").capitalize()


def nomogram(output, positive_label: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The stored nomogram (``readerstudy.ai.interpretation``) with display names, the
    case's value per variable and the model's probability."""
    stored = output.nomogram
    variables = catalogue()
    values = stored.get("values") or {}
    probability = (output.probabilities or {}).get(positive_label)
    # The axes list keeps the model's order; the points mapping may not (PostgreSQL's jsonb
    # reorders keys), so the rows follow the axes.
    axis_order = [axis["variable"] for axis in stored.get("axes") or []]
    names = [n for n in axis_order if n in stored["points"]]
    names += [n for n in stored["points"] if n not in names]
    part = {
        "variables": [
            {
                "name": name,
                "display": _display(name, variables),
                "points": stored["points"][name],
                "value": values.get(name),
            }
            for name in names
        ],
        "total_points": stored["total_points"],
        "probability": probability if isinstance(probability, int | float) else None,
        "axes": [
            {**axis, "display": _display(axis["variable"], variables)}
            for axis in stored.get("axes") or []
        ],
        "probability_axis": stored.get("probability_axis") or [],
        "total_points_axis": stored.get("total_points_axis") or [],
        "signatures": dict(output.signatures or {}),
    }
    shown = {
        "points": dict(stored["points"]),
        "total_points": stored["total_points"],
        "signatures": part["signatures"],
    }
    return part, shown


def feature_importance(output) -> tuple[dict[str, Any], list[str]]:
    features = list(output.features or [])
    return {"features": features}, [f["name"] for f in features]


def clinical(case_id: int, names: list[str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The chosen variables of the case's clinical record, in the configured order (a value
    the record lacks is shown as not recorded: ``None``)."""
    record = ClinicalRecord.objects.filter(case_id=case_id).values_list("values", flat=True)
    values = next(iter(record), None) or {}
    variables = catalogue()
    rows: list[dict[str, Any]] = []
    for name in names:
        variable = variables.get(name)
        rows.append(
            {
                "name": name,
                "label": _display(name, variables),
                "kind": str(variable.kind) if variable is not None else "text",
                "unit": variable.unit if variable is not None else "",
                "value": values.get(name),
            }
        )
    return rows, {row["name"]: row["value"] for row in rows}
