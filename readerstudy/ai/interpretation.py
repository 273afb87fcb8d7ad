"""A model's interpretable outputs beside its probabilities: per-signature probabilities, the
nomogram of this case and the selected features with their importances (seed 001's DLRN).

They come from the plug-in's ``result.json`` keys (``signatures``, ``nomogram``,
``total_points``, ``nomogram_axes``, ``features``) and are stored checked and in one shape:

* ``signatures``: ``{name: probability}``;
* ``nomogram``: ``{"points": {variable: points}, "total_points": float,
  "values": {variable: value}, "axes": [{"variable", "ticks": [{"value", "points"}]}],
  "probability_axis": [{"total_points", "probability"}], "total_points_axis": [ticks]}``
  (``{}`` without a nomogram);
* ``features``: ``[{"name", "value", "importance"}]``, by decreasing absolute importance.

``nomogram_axes`` holds each variable's ticks, as ``"variables": [{"name", "ticks": [{"value",
"points"}]}]`` or keyed by the variable's name (``[{"value", "points"}]``, ``{"ticks": [...]}``
or ``{"values": [...], "points": [...]}``); the total-points -> probability axis as
``"probability": [{"total_points", "probability"}]`` (or two parallel lists); the total-points
ticks as ``"total_points": [...]``. Anything
else is refused with :class:`InterpretationError` naming the key, so a job never stores an
output the aided view cannot draw.
"""

import math
from collections.abc import Mapping
from typing import Any

PROBABILITY_AXIS_KEYS = ("probability", "risk")
#: keys of ``nomogram_axes`` that are not a variable's axis
AXIS_KEYS = frozenset({*PROBABILITY_AXIS_KEYS, "points", "total_points", "variables"})
MAX_FEATURES = 500
MAX_TICKS = 200


class InterpretationError(ValueError):
    """The model's interpretable outputs are malformed (names the key)."""


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InterpretationError(f"{where}: expected a finite number, got {value!r}")
    return float(value)


def _scalar(value: Any, where: str) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    return _number(value, where)


def _probability(value: Any, where: str) -> float:
    p = _number(value, where)
    if not 0.0 <= p <= 1.0:
        raise InterpretationError(f"{where}: a probability must lie in [0, 1], got {p}")
    return p


def _mapping(value: Any, where: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise InterpretationError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def signatures_of(result: Mapping[str, Any]) -> dict[str, float]:
    raw = result.get("signatures") or {}
    return {
        str(k): _probability(v, f"signatures.{k}") for k, v in _mapping(raw, "signatures").items()
    }


def _pairs(raw: Any, where: str, keys: tuple[str, str], aliases: Mapping[str, str]) -> list:
    """``[{a, b}]`` from a list of objects or an object of two parallel lists."""
    a, b = keys
    if isinstance(raw, Mapping) and "ticks" in raw:
        raw = raw["ticks"]
    if isinstance(raw, Mapping):
        cols = {aliases.get(k, k): v for k, v in raw.items()}
        if not (isinstance(cols.get(a), list) and isinstance(cols.get(b), list)):
            raise InterpretationError(f"{where}: expected lists {a!r} and {b!r}")
        if len(cols[a]) != len(cols[b]):
            raise InterpretationError(f"{where}: {a!r} and {b!r} differ in length")
        raw = [{a: x, b: y} for x, y in zip(cols[a], cols[b], strict=True)]
    if not isinstance(raw, list) or not raw or len(raw) > MAX_TICKS:
        raise InterpretationError(f"{where}: expected 1 to {MAX_TICKS} ticks")
    ticks = []
    for i, tick in enumerate(raw):
        tick = {aliases.get(k, k): v for k, v in _mapping(tick, f"{where}[{i}]").items()}
        if a not in tick or b not in tick:
            raise InterpretationError(f"{where}[{i}]: needs {a!r} and {b!r}")
        ticks.append((tick[a], tick[b]))
    return ticks


def _variable_axes(raw: Mapping) -> list[tuple[str, Any]]:
    """(variable, axis) pairs: from ``{"variables": [{"name", "ticks"}]}`` or keyed by name."""
    listed = raw.get("variables")
    if isinstance(listed, list):
        pairs = []
        for i, axis in enumerate(listed):
            axis = _mapping(axis, f"nomogram_axes.variables[{i}]")
            if not isinstance(axis.get("name"), str):
                raise InterpretationError(f"nomogram_axes.variables[{i}].name: expected a name")
            pairs.append((axis["name"], axis.get("ticks")))
        return pairs
    return [(str(k), v) for k, v in raw.items() if k not in AXIS_KEYS]


def _probability_axis(raw: Mapping) -> list[dict]:
    key = next((k for k in PROBABILITY_AXIS_KEYS if k in raw), None)
    if key is None:
        return []
    where = f"nomogram_axes.{key}"
    pairs = _pairs(raw[key], where, ("total_points", "probability"), {"points": "total_points"})
    ticks = [
        {
            "total_points": _number(t, f"{where}.total_points"),
            "probability": _probability(p, f"{where}.probability"),
        }
        for t, p in pairs
    ]
    return sorted(ticks, key=lambda t: t["total_points"])


def _axes(raw: Mapping, variables: list[str]) -> tuple[list[dict], list[dict], list[float]]:
    """(variable axes in the points' order, probability axis, total-points ticks)."""
    axes: list[dict[str, Any]] = []
    for name, axis in _variable_axes(raw):
        where = f"nomogram_axes.{name}"
        pairs = _pairs(axis, where, ("value", "points"), {"values": "value"})
        ticks = [
            {"value": _scalar(v, f"{where}.value"), "points": _number(p, f"{where}.points")}
            for v, p in pairs
        ]
        axes.append({"variable": name, "ticks": ticks})
    missing = [v for v in variables if v not in {a["variable"] for a in axes}]
    if axes and missing:
        raise InterpretationError(f"nomogram_axes: no axis for {', '.join(missing)}")
    order = {v: i for i, v in enumerate(variables)}
    axes.sort(key=lambda a: order.get(a["variable"], len(order)))
    totals = raw.get("total_points")
    total_ticks = []
    if isinstance(totals, list) and all(not isinstance(t, Mapping) for t in totals):
        total_ticks = sorted(_number(t, "nomogram_axes.total_points") for t in totals)
    return axes, _probability_axis(raw), total_ticks


def nomogram_of(result: Mapping[str, Any]) -> dict[str, Any]:
    """The stored nomogram of a result (``{}`` when the model has none)."""
    raw = result.get("nomogram")
    if not raw:
        return {}
    raw = dict(_mapping(raw, "nomogram"))
    total = raw.pop("total_points", result.get("total_points"))
    values = raw.pop("values", {}) or {}
    points = raw.pop("points", None)
    points = _mapping(raw if points is None else points, "nomogram")
    out_points = {str(k): _number(v, f"nomogram.{k}") for k, v in points.items()}
    if not out_points:
        raise InterpretationError("nomogram: no variable has points")
    if total is None:
        raise InterpretationError("total_points: missing beside the nomogram")
    axes, probability_axis, total_ticks = _axes(
        _mapping(result.get("nomogram_axes") or {}, "nomogram_axes"), list(out_points)
    )
    return {
        "points": out_points,
        "total_points": _number(total, "total_points"),
        "values": {
            str(k): _scalar(v, f"nomogram.values.{k}")
            for k, v in _mapping(values, "nomogram.values").items()
        },
        "axes": axes,
        "probability_axis": probability_axis,
        "total_points_axis": total_ticks,
    }


def features_of(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    raw = result.get("features") or []
    if not isinstance(raw, list) or len(raw) > MAX_FEATURES:
        raise InterpretationError(f"features: expected a list of at most {MAX_FEATURES}")
    out = []
    for i, item in enumerate(raw):
        item = _mapping(item, f"features[{i}]")
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise InterpretationError(f"features[{i}].name: expected a name")
        out.append(
            {
                "name": name,
                "value": _scalar(item.get("value"), f"features[{i}].value"),
                "importance": _number(item.get("importance"), f"features[{i}].importance"),
            }
        )
    return sorted(out, key=lambda f: -abs(f["importance"]))


def interpretation_of(result: Mapping[str, Any]) -> dict[str, Any]:
    """``{signatures, nomogram, features}`` of a result, checked (InterpretationError)."""
    return {
        "signatures": signatures_of(result),
        "nomogram": nomogram_of(result),
        "features": features_of(result),
    }
