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


def check_annotation(values: object, kinds: list[str], etiology_values: list[str]) -> dict:
    """An annotation's values, checked: each chosen label given; subtypes and location only
    with ICH present. Raises PanelError naming the first problem."""
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
        location = values.get(L.LOCATION) or ""
        if location and location not in L.LOCATION_VALUES:
            raise PanelError(
                "bad_annotation", f"location must be one of {', '.join(L.LOCATION_VALUES)}"
            )
        if location and present is False:
            raise PanelError("bad_annotation", "a location is given only when ICH is present")
        if not location and present is True:
            raise PanelError("bad_annotation", "give the location of the ICH")
        out[L.LOCATION] = location
    return out


def check_decision(key: str, value: object, etiology_values: list[str]) -> object:
    """An adjudicator's value for one vote item."""
    if key == L.ETIOLOGY:
        allowed: tuple = tuple(etiology_values)
    elif key == L.LOCATION:
        allowed = (*L.LOCATION_VALUES, L.NO_LOCATION)
    else:
        allowed = (True, False)
    is_bool = allowed[0] is True
    if (is_bool and not isinstance(value, bool)) or (
        not is_bool and (not isinstance(value, str) or value not in allowed)
    ):
        shown = ", ".join(L.shown(v) for v in allowed)
        raise PanelError("bad_decision", f"{L.item_name(key)} must be one of {shown}")
    return value
