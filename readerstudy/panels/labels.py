"""The labels a truth panel can establish and the vote items they split into.

A panel votes item by item: ``etiology``, ``ich_present`` and ``location`` are one item each,
``subtypes`` one binary item per subtype (``subtype:iph`` ...), so agreement and adjudication
are per label. A case without ICH has location ``none``.

``slice_labels``: each annotator marks the slices (de-identified SOP Instance UIDs of the
case's primary series) that show bleeding, per subtype when the panel also labels subtypes,
else as ``any``. The vote has one binary item per (slice, label) that at least one annotator
marked (``slice:<position>:<label>``); every other slice is a unanimous "no" and is counted
as such in the agreement, but needs no item.

``hematoma_mask``: each annotator draws the hematoma in the viewer (its segmentation tool); the
masks are voted voxel by voxel (see :mod:`readerstudy.panels.masks`), not item by item.
"""

ETIOLOGY = "etiology"
ICH_PRESENT = "ich_present"
SUBTYPES = "subtypes"
LOCATION = "location"
SLICE_LABELS = "slice_labels"
HEMATOMA_MASK = "hematoma_mask"

#: label kinds in display order, with their names
KINDS = {
    ETIOLOGY: "Etiology",
    ICH_PRESENT: "ICH present",
    SUBTYPES: "Subtypes",
    LOCATION: "Location",
    SLICE_LABELS: "Slice labels",
    HEMATOMA_MASK: "Hematoma mask",
}
SUBTYPE_VALUES = ("iph", "ivh", "sah", "sdh", "edh")
LOCATION_VALUES = ("deep", "lobar", "subtentorial")
NO_LOCATION = "none"
DEFAULT_ETIOLOGY_VALUES = ("cvst_ich", "sich")
SUBTYPE_PREFIX = "subtype:"
SLICE_PREFIX = "slice:"
ANY_SLICE_LABEL = "any"


def item_keys(kinds: list[str]) -> list[str]:
    """The vote items of a panel's label kinds, in display order."""
    keys: list[str] = []
    for kind in KINDS:
        if kind not in kinds:
            continue
        if kind == SUBTYPES:
            keys.extend(SUBTYPE_PREFIX + s for s in SUBTYPE_VALUES)
        elif kind == SLICE_LABELS:
            continue  # one item per marked slice, see slice_key()
        elif kind == HEMATOMA_MASK:
            continue  # voted voxel by voxel, see panels.masks
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


def slice_label_values(kinds: list[str]) -> tuple[str, ...]:
    """The labels a slice is marked with: the subtypes when the panel labels them, else any."""
    return SUBTYPE_VALUES if SUBTYPES in kinds else (ANY_SLICE_LABEL,)


def slice_key(position: int, label: str) -> str:
    return f"{SLICE_PREFIX}{position}:{label}"


def parse_slice_key(key: str) -> tuple[int, str] | None:
    """(0-based slice position, label) of a slice item's key; None for other keys."""
    if not key.startswith(SLICE_PREFIX):
        return None
    position, _, label = key[len(SLICE_PREFIX) :].partition(":")
    return int(position), label


def item_name(key: str) -> str:
    parsed = parse_slice_key(key)
    if parsed is not None:
        position, label = parsed
        return f"Slice {position + 1} · {label.upper()}"
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
