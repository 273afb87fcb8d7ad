"""The labels a truth panel can establish and the vote items they split into.

A panel votes item by item: ``etiology``, ``ich_present`` and ``location`` are one item each,
``subtypes`` one binary item per subtype (``subtype:iph`` ...), so agreement and adjudication
are per label. A case without ICH has location ``none``.
"""

ETIOLOGY = "etiology"
ICH_PRESENT = "ich_present"
SUBTYPES = "subtypes"
LOCATION = "location"

#: label kinds in display order, with their names
KINDS = {
    ETIOLOGY: "Etiology",
    ICH_PRESENT: "ICH present",
    SUBTYPES: "Subtypes",
    LOCATION: "Location",
}
SUBTYPE_VALUES = ("iph", "ivh", "sah", "sdh", "edh")
LOCATION_VALUES = ("deep", "lobar", "subtentorial")
NO_LOCATION = "none"
DEFAULT_ETIOLOGY_VALUES = ("cvst_ich", "sich")
SUBTYPE_PREFIX = "subtype:"


def item_keys(kinds: list[str]) -> list[str]:
    """The vote items of a panel's label kinds, in display order."""
    keys: list[str] = []
    for kind in KINDS:
        if kind not in kinds:
            continue
        if kind == SUBTYPES:
            keys.extend(SUBTYPE_PREFIX + s for s in SUBTYPE_VALUES)
        else:
            keys.append(kind)
    return keys


def item_values(values: dict, kinds: list[str]) -> dict[str, object]:
    """One annotation (``{"etiology": ..., "ich_present": bool, "subtypes": [...],
    "location": ...}``) as its vote items."""
    items: dict[str, object] = {}
    for key in item_keys(kinds):
        if key.startswith(SUBTYPE_PREFIX):
            items[key] = key[len(SUBTYPE_PREFIX) :] in (values.get(SUBTYPES) or [])
        elif key == LOCATION:
            items[key] = values.get(LOCATION) or NO_LOCATION
        else:
            items[key] = values.get(key)
    return items


def item_name(key: str) -> str:
    if key.startswith(SUBTYPE_PREFIX):
        return f"Subtype {key[len(SUBTYPE_PREFIX) :].upper()}"
    return KINDS.get(key, key)


def shown(value: object) -> str:
    """A vote value as pages and the CSV show it."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return "" if value is None else str(value)
