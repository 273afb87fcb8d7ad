"""The ``marks`` question type: its configuration, the JSON schema of its answers and the rules
a schema cannot say (unique mark ids, one slice mark per slice and label).

An answer (scored by the FROC/LROC analyses, so its shape is fixed)::

    {"marks": [{"id", "tool": point|ellipse|rectangle, "sop_instance_uid",
                "point_mm": [x, y, z], "rating", "extent_mm": {"corners_mm": [[x,y,z], [x,y,z]]}}],
     "slice_marks": [{"sop_instance_uid", "label"}],
     "segmentation": null | {"file", "sha256", "voxels"}}

Coordinates are patient (LPS) mm; ``point_mm`` is the centre of an ROI, whose ``corners_mm``
are opposite corners of its bounding box on the slice (an ellipse is inscribed in it). Where
the marks lie (on a slice of the case's series, inside the image) is checked against the
series' geometry by the reading app, which knows the case.
"""

LESION_TOOLS = ("point", "ellipse", "rectangle")
TOOLS = (*LESION_TOOLS, "slice", "brush")
ROI_TOOLS = ("ellipse", "rectangle")
DEFAULT_CONFIG = {
    "tools": list(TOOLS),
    "rating_min": 1,
    "rating_max": 5,
    "max_marks": 20,
    # the HU window the segmentation's threshold fill paints inside (the reader may change it)
    "threshold_hu_low": 40,
    "threshold_hu_high": 90,
}
MAX_MARKS_LIMIT = 500
HU_LIMITS = (-1024, 3071)
_MM = {"type": "number", "minimum": -1e6, "maximum": 1e6}
_POINT = {"type": "array", "items": _MM, "minItems": 3, "maxItems": 3}
_UID = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)*$", "maxLength": 64}


def marks_config(config: dict | None) -> dict:
    """A question's marks settings with the defaults filled in."""
    return {**DEFAULT_CONFIG, **(config or {})}


def validate_marks_definition(config: dict | None, options: list) -> None:
    """Raise ValueError naming what is wrong with a marks question's settings."""
    if config is not None and not isinstance(config, dict):
        raise ValueError("config must be an object")
    unknown = sorted(set(config or {}) - set(DEFAULT_CONFIG))
    if unknown:
        raise ValueError(f"unknown marks setting(s): {', '.join(unknown)}")
    c = marks_config(config)
    tools = c["tools"]
    if not isinstance(tools, list) or not tools or any(t not in TOOLS for t in tools):
        raise ValueError(f"tools must be a non-empty list of {', '.join(TOOLS)}")
    if len(set(tools)) != len(tools):
        raise ValueError("each tool may be listed once")
    for key in ("rating_min", "rating_max", "max_marks", "threshold_hu_low", "threshold_hu_high"):
        if not isinstance(c[key], int) or isinstance(c[key], bool):
            raise ValueError(f"{key} must be an integer")
    if c["rating_min"] >= c["rating_max"]:
        raise ValueError("rating_min must be below rating_max")
    if not 1 <= c["max_marks"] <= MAX_MARKS_LIMIT:
        raise ValueError(f"max_marks must be from 1 to {MAX_MARKS_LIMIT}")
    low, high = HU_LIMITS
    for key in ("threshold_hu_low", "threshold_hu_high"):
        if not low <= c[key] <= high:
            raise ValueError(f"{key} must be from {low} to {high} HU")
    if c["threshold_hu_low"] >= c["threshold_hu_high"]:
        raise ValueError("threshold_hu_low must be below threshold_hu_high")
    if "slice" in tools and not options:
        raise ValueError("slice marks need their labels as the question's options")


def marks_schema(config: dict | None, labels: list) -> dict:
    """The JSON schema of one marks answer under a question's settings."""
    c = marks_config(config)
    lesion_tools = [t for t in c["tools"] if t in LESION_TOOLS]
    mark = {
        "type": "object",
        "properties": {
            "id": {"type": "string", "minLength": 1, "maxLength": 64},
            "tool": {"enum": lesion_tools},
            "sop_instance_uid": _UID,
            "point_mm": _POINT,
            "rating": {"type": "integer", "minimum": c["rating_min"], "maximum": c["rating_max"]},
            "extent_mm": {
                "type": "object",
                "properties": {
                    "corners_mm": {"type": "array", "items": _POINT, "minItems": 2, "maxItems": 2}
                },
                "required": ["corners_mm"],
                "additionalProperties": False,
            },
        },
        "required": ["id", "tool", "sop_instance_uid", "point_mm", "rating"],
        "additionalProperties": False,
    }
    slice_mark = {
        "type": "object",
        "properties": {"sop_instance_uid": _UID, "label": {"enum": list(labels)}},
        "required": ["sop_instance_uid", "label"],
        "additionalProperties": False,
    }
    segmentation = {
        "type": "object",
        "properties": {
            "file": {"type": "string", "minLength": 1, "maxLength": 300},
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "voxels": {"type": "integer", "minimum": 1},
        },
        "required": ["file", "sha256", "voxels"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {
            "marks": {"type": "array", "items": mark, "maxItems": c["max_marks"]},
            "slice_marks": {
                "type": "array",
                "items": slice_mark,
                "maxItems": 10000 if "slice" in c["tools"] else 0,
            },
            "segmentation": (
                {"anyOf": [{"type": "null"}, segmentation]}
                if "brush" in c["tools"]
                else {"type": "null"}
            ),
        },
        "required": ["marks", "slice_marks", "segmentation"],
        "additionalProperties": False,
    }


def marks_problem(value: dict) -> tuple[str, str] | None:
    """(field, message) of the first rule beyond the schema that ``value`` breaks, else None.

    ``value`` already matches :func:`marks_schema`.
    """
    seen: set[str] = set()
    for i, mark in enumerate(value["marks"]):
        where = f"marks.{i}"
        if mark["id"] in seen:
            return f"{where}.id", f"mark id {mark['id']!r} is used twice"
        seen.add(mark["id"])
        is_roi = mark["tool"] in ROI_TOOLS
        if is_roi and "extent_mm" not in mark:
            return f"{where}.extent_mm", f"mark {mark['id']!r}: an {mark['tool']} needs extent_mm"
        if not is_roi and "extent_mm" in mark:
            return f"{where}.extent_mm", f"mark {mark['id']!r}: a point has no extent_mm"
    pairs: set[tuple[str, str]] = set()
    for i, slice_mark in enumerate(value["slice_marks"]):
        pair = (slice_mark["sop_instance_uid"], slice_mark["label"])
        if pair in pairs:
            return f"slice_marks.{i}", f"slice {pair[0]} is marked {pair[1]!r} twice"
        pairs.add(pair)
    return None
