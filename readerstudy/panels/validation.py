"""Checks of a panel's definition and of one annotation or decision."""

from . import labels as L
from .errors import PanelError


def check_kinds(kinds: list) -> list[str]:
    if not isinstance(kinds, list) or not kinds:
        raise PanelError("labels_required", "choose at least one label for the panel to establish")
    unknown = [k for k in kinds if k not in L.KINDS]
    if unknown:
        raise PanelError(
            "unknown_label",
            f"unknown label(s) {', '.join(map(str, unknown))}; choose from {', '.join(L.KINDS)}",
        )
    return [k for k in L.KINDS if k in kinds]


def check_etiology_values(values: list) -> list[str]:
    cleaned = [str(v).strip() for v in values or [] if str(v).strip()]
    if len(cleaned) != 2 or cleaned[0] == cleaned[1]:
        raise PanelError(
            "bad_etiology_values", "etiology needs two different values (positive, then negative)"
        )
    return cleaned


def check_annotation(
    values: object,
    kinds: list[str],
    etiology_values: list[str],
    slice_positions: dict[str, int] | None = None,
) -> dict:
    """An annotation's values, checked: each chosen label given; subtypes, location and slice
    labels only with ICH present. ``slice_positions``: the case's slices (de-identified SOP
    Instance UID -> 0-based position). Raises PanelError naming the first problem."""
    if not isinstance(values, dict):
        raise PanelError("bad_annotation", "an annotation is an object of label values")
    unknown = sorted(set(values) - set(kinds))
    if unknown:
        raise PanelError("bad_annotation", f"this panel does not label {', '.join(unknown)}")
    out: dict = {}
    if L.ETIOLOGY in kinds:
        if values.get(L.ETIOLOGY) not in etiology_values:
            raise PanelError(
                "bad_annotation", f"etiology must be one of {', '.join(etiology_values)}"
            )
        out[L.ETIOLOGY] = values[L.ETIOLOGY]
    present = values.get(L.ICH_PRESENT)
    if L.ICH_PRESENT in kinds:
        if not isinstance(present, bool):
            raise PanelError("bad_annotation", "ich_present must be true or false")
        out[L.ICH_PRESENT] = present
    if L.SUBTYPES in kinds:
        subtypes = values.get(L.SUBTYPES) or []
        if not isinstance(subtypes, list) or any(s not in L.SUBTYPE_VALUES for s in subtypes):
            raise PanelError(
                "bad_annotation", f"subtypes must be a list of {', '.join(L.SUBTYPE_VALUES)}"
            )
        if subtypes and present is False:
            raise PanelError("bad_annotation", "subtypes are given only when ICH is present")
        out[L.SUBTYPES] = sorted(set(subtypes), key=L.SUBTYPE_VALUES.index)
    if L.LOCATION in kinds:
        out[L.LOCATION] = _check_location(values.get(L.LOCATION) or "", present)
    if L.SLICE_LABELS in kinds:
        marks = check_slice_labels(values.get(L.SLICE_LABELS) or [], kinds, slice_positions or {})
        if marks and present is False:
            raise PanelError("bad_annotation", "slices are marked only when ICH is present")
        out[L.SLICE_LABELS] = marks
    return out


def _check_location(location: str, present: object) -> str:
    if location and location not in L.LOCATION_VALUES:
        raise PanelError(
            "bad_annotation", f"location must be one of {', '.join(L.LOCATION_VALUES)}"
        )
    if location and present is False:
        raise PanelError("bad_annotation", "a location is given only when ICH is present")
    if not location and present is True:
        raise PanelError("bad_annotation", "give the location of the ICH")
    return location


def check_slice_labels(marks: object, kinds: list[str], positions: dict[str, int]) -> list[dict]:
    """Slice marks ``[{"sop_instance_uid", "label"}]``, each on a slice of the case's series
    with one of the panel's slice labels; returned once each, in slice order, with their
    position."""
    allowed = L.slice_label_values(kinds)
    if not isinstance(marks, list):
        raise PanelError("bad_annotation", "slice_labels must be a list of slice marks")
    seen: dict[tuple[int, str], dict] = {}
    for mark in marks:
        if not isinstance(mark, dict) or not isinstance(mark.get("sop_instance_uid"), str):
            raise PanelError(
                "bad_annotation", "a slice mark is an object with sop_instance_uid and label"
            )
        uid, label = mark["sop_instance_uid"], mark.get("label")
        if label not in allowed:
            raise PanelError(
                "bad_annotation", f"a slice's label must be one of {', '.join(allowed)}"
            )
        if uid not in positions:
            raise PanelError("bad_annotation", f"{uid} is not a slice of this case's series")
        seen[(positions[uid], label)] = {
            "sop_instance_uid": uid, "label": label, "position": positions[uid],
        }  # fmt: skip
    return [seen[k] for k in sorted(seen, key=lambda k: (k[0], allowed.index(k[1])))]


def check_decision(key: str, value: object, etiology_values: list[str]) -> object:
    """An adjudicator's value for one vote item."""
    if key == L.ETIOLOGY:
        allowed: tuple = tuple(etiology_values)
    elif key == L.LOCATION:
        allowed = (*L.LOCATION_VALUES, L.NO_LOCATION)
    else:  # subtypes, ICH present, slices: yes / no
        allowed = (True, False)
    is_bool = allowed[0] is True
    if (is_bool and not isinstance(value, bool)) or (
        not is_bool and (not isinstance(value, str) or value not in allowed)
    ):
        shown = ", ".join(L.shown(v) for v in allowed)
        raise PanelError("bad_decision", f"{L.item_name(key)} must be one of {shown}")
    return value
