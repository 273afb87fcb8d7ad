"""Truth lesions of cases (FROC scoring): from the hematoma mask's connected components or a
lesions CSV. Each write replaces the case's lesions in one transaction; weights sum to 1.

Lesions CSV: ``case_code``, ``lesion_id`` (1..n), ``x_mm``, ``y_mm``, ``z_mm`` (centroid,
patient LPS mm, as the viewer's marks), optional ``radius_mm`` and ``weight``. A case's weights
are all blank/0 (equal weights) or sum to 1 (0.99-1.01 rescaled), as RJafroc's TRUTH sheet.
When the case has a hematoma mask, a CSV lesion whose centroid lies in one of its components is
linked to that component (so the "inside the lesion mask" criterion can score it).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from django.db import transaction

from readerstudy.analysis.froc_scoring import (
    WEIGHTINGS,
    Geometry,
    ScoringError,
    normalised_weights,
)

from .csvfiles import read_csv
from .errors import LabelError
from .lesion_selectors import mask_geometry
from .models import Case, HematomaMask, TruthLesion

CSV_COLUMNS = ("case_code", "lesion_id", "x_mm", "y_mm", "z_mm")
OPTIONAL = ("radius_mm", "weight")
_LINE = re.compile(r"lines? (\d+)")


@dataclass(frozen=True)
class LesionSummary:
    cases: int
    lesions: int


def extract_mask_lesions(
    case: Case, *, weighting: str = "equal", min_voxels: int = 1
) -> list[TruthLesion]:
    """Replace the case's lesions by its hematoma mask's components (raises ValueError when the
    case has no mask or the options are bad)."""
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {', '.join(WEIGHTINGS)}, not {weighting!r}")
    mask = HematomaMask.objects.filter(case=case).first()
    if mask is None:
        raise ValueError(f"case {case.code} has no hematoma mask")
    try:
        lesions, _ = mask_geometry(mask)
        if min_voxels > 1:
            lesions = [x for x in lesions if (x.voxels or 0) >= min_voxels]
        weights = normalised_weights(
            [float(x.voxels or 0) if weighting == "volume" else 0.0 for x in lesions]
        )
    except ScoringError as exc:
        raise ValueError(str(exc)) from None
    rows = [
        TruthLesion(
            case=case,
            lesion_id=x.id,
            x_mm=x.centroid_mm[0],
            y_mm=x.centroid_mm[1],
            z_mm=x.centroid_mm[2],
            weight=w,
            component=x.component,
            voxels=x.voxels,
            source=TruthLesion.Source.MASK,
        )
        for x, w in zip(lesions, weights, strict=True)
    ]
    with transaction.atomic():
        TruthLesion.objects.filter(case=case).delete()
        TruthLesion.objects.bulk_create(rows)
    return rows


def _number(row: dict, key: str, line: int, errors: list[str], *, required: bool) -> float | None:
    raw = (row.get(key) or "").strip()
    if not raw:
        if required:
            errors.append(f"line {line}: {key} is empty")
        return None
    try:
        value = float(raw)
    except ValueError:
        errors.append(f"line {line}: {key} {raw!r} is not a number")
        return None
    if not math.isfinite(value):
        errors.append(f"line {line}: {key} {raw!r} is not finite")
        return None
    return value


def _component(geometry: Geometry | None, point: tuple[float, float, float]) -> int | None:
    if geometry is None:
        return None
    index = geometry.to_index(point)
    label = int(geometry.labels[index]) if index is not None else 0
    return label or None


def _check_rows(rows: list[tuple[int, dict]], errors: list[str]) -> dict[int, list[dict]]:
    """Validated lesions by case pk."""
    cases = {
        c.code: c
        for c in Case.objects.filter(code__in={(r.get("case_code") or "").strip() for _, r in rows})
    }
    out: dict[int, list[dict]] = {}
    seen: dict[tuple[int, int], int] = {}
    for line, row in rows:
        code = (row.get("case_code") or "").strip()
        case = cases.get(code)
        if case is None:
            errors.append(
                f"line {line}: no case with code {code!r}"
                if code
                else f"line {line}: case_code is empty"
            )
            continue
        lid = _number(row, "lesion_id", line, errors, required=True)
        coords = [_number(row, k, line, errors, required=True) for k in ("x_mm", "y_mm", "z_mm")]
        radius = _number(row, "radius_mm", line, errors, required=False)
        weight = _number(row, "weight", line, errors, required=False)
        if lid is not None and (not lid.is_integer() or lid < 1):
            errors.append(f"line {line}: lesion_id {lid:g} is not an integer >= 1")
            continue
        if radius is not None and radius <= 0:
            errors.append(f"line {line}: radius_mm must be > 0")
        if weight is not None and weight < 0:
            errors.append(f"line {line}: weight must be >= 0")
        if lid is None or any(c is None for c in coords):
            continue
        key = (case.pk, int(lid))
        if key in seen:
            errors.append(f"line {line}: case {code} lesion {int(lid)} repeats line {seen[key]}")
            continue
        seen[key] = line
        out.setdefault(case.pk, []).append(
            {
                "case": case,
                "lesion_id": int(lid),
                "xyz": tuple(coords),
                "radius": radius,
                "weight": weight,
                "line": line,
            }
        )
    return out


def _weights(items: list[dict], errors: list[str]) -> list[float]:
    values = [it["weight"] or 0.0 for it in items]
    total = sum(values)
    numbers = ", ".join(str(n) for n in sorted(it["line"] for it in items))
    lines = f"line{'s' if len(items) > 1 else ''} {numbers}"
    if total and not 0.99 <= total <= 1.01:
        errors.append(
            f"{lines}: the weights of case {items[0]['case'].code} sum to {total:g} "
            "(must be 1, or all blank/0 for equal weights)"
        )
        return values
    try:
        return normalised_weights(values)
    except ScoringError as exc:
        errors.append(f"{lines}: {exc}")
        return values


def _by_line(errors: list[str]) -> list[str]:
    """The problems in the order of the CSV's lines (each names its first line first)."""
    return sorted(errors, key=lambda e: int(m[1]) if (m := _LINE.match(e)) else math.inf)


def import_lesions_csv(source, *, store: bool = True) -> LesionSummary:
    """Check a lesions CSV (path or file) and replace the named cases' lesions; raises
    LabelError listing every problem, storing nothing. ``store=False`` only checks it (the
    summary says what would be stored)."""
    header, rows = read_csv(source)
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise LabelError([f"the lesions CSV lacks column(s) {', '.join(missing)}"])
    if not rows:
        raise LabelError(["the lesions CSV has no rows"])
    errors: list[str] = []
    by_case = _check_rows(rows, errors)
    planned: list[TruthLesion] = []
    for items in by_case.values():
        items.sort(key=lambda it: it["lesion_id"])
        weights = _weights(items, errors)
        mask = HematomaMask.objects.filter(case=items[0]["case"]).first()
        geometry = mask_geometry(mask)[1] if mask is not None else None
        for it, w in zip(items, weights, strict=True):
            x, y, z = it["xyz"]
            planned.append(
                TruthLesion(
                    case=it["case"],
                    lesion_id=it["lesion_id"],
                    x_mm=x,
                    y_mm=y,
                    z_mm=z,
                    radius_mm=it["radius"],
                    weight=w,
                    component=_component(geometry, (x, y, z)),
                    source=TruthLesion.Source.CSV,
                )
            )
    if errors:
        raise LabelError(_by_line(errors))
    if store:
        with transaction.atomic():
            TruthLesion.objects.filter(case_id__in=list(by_case)).delete()
            TruthLesion.objects.bulk_create(planned)
    return LesionSummary(len(by_case), len(planned))


def extract_masks_lesions(
    codes: list[str] | None = None, *, weighting: str = "equal", min_voxels: int = 1
) -> LesionSummary:
    """Replace the lesions of the cases ``codes`` (None: every case with a hematoma mask) by
    their masks' components, in one transaction: raises LabelError listing every case that
    cannot be done (unknown, no mask, bad mask), storing nothing."""
    if min_voxels < 1:
        raise LabelError([f"min_voxels must be at least 1, not {min_voxels}"])
    if codes:
        cases = {c.code: c for c in Case.objects.filter(code__in=codes)}
        unknown = sorted(set(codes) - set(cases))
        if unknown:
            raise LabelError([f"no case with code {', '.join(unknown)}"])
        chosen = [cases[code] for code in sorted(set(codes))]
    else:
        chosen = list(Case.objects.filter(hematoma_mask__isnull=False).order_by("code"))
        if not chosen:
            raise LabelError(["no case has a hematoma mask"])
    errors: list[str] = []
    lesions = 0
    with transaction.atomic():
        for case in chosen:
            try:
                lesions += len(
                    extract_mask_lesions(case, weighting=weighting, min_voxels=min_voxels)
                )
            except ValueError as exc:
                errors.append(f"{case.code}: {exc}")
        if errors:
            transaction.set_rollback(True)
    if errors:
        raise LabelError(errors)
    return LesionSummary(len(chosen), lesions)
