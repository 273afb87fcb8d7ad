"""The calibration and decision-curve figures of the report, with their titles and alt text.

Figures are named ``calibration`` and ``decision_curve`` (``calibration_<endpoint>``... for a
multi-endpoint score table), as ``model_calibration.write_calibration_figures`` writes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .model_calibration import _safe, write_calibration_figures

if TYPE_CHECKING:
    from .report import Report

_KINDS = ("decision_curve", "calibration")  # the longer prefix first


def calibration_figures(
    section: Mapping[str, Any], out: Path, fmts: tuple[str, ...]
) -> dict[str, list[Path]]:
    """Write the figures of a calibration section: {figure name: its files}."""
    figs: dict[str, list[Path]] = {}
    for path in write_calibration_figures(section, out, fmts):
        figs.setdefault(path.stem, []).append(path)
    return figs


def _split(name: str) -> tuple[str, str] | None:
    """(kind, endpoint suffix) of a figure name, or None for another figure."""
    for kind in _KINDS:
        if name == kind or name.startswith(kind + "_"):
            return kind, name[len(kind) + 1 :]
    return None


def figure_title(name: str) -> str:
    parts = _split(name)
    if parts is None:
        return name
    kind, endpoint = parts
    title = "Calibration curves" if kind == "calibration" else "Decision curves"
    return title + (f" ({endpoint})" if endpoint else "")


def _entries(report: Report, endpoint: str) -> tuple[Mapping[str, Any], Mapping[str, Any] | None]:
    section = report.calibration
    perf = section.get("model_performance") or {}
    curves = section.get("decision_curve") or {}
    if not section.get("by_endpoint"):
        return perf, curves or None
    key = next((k for k in perf if _safe(k) == endpoint), None)
    return (perf.get(key) or {}, curves.get(key)) if key is not None else ({}, None)


def _num(value: Any) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def figure_alt(report: Report, name: str) -> str | None:
    """A text alternative that states what the figure shows, or None for another figure."""
    parts = _split(name)
    if parts is None or not report.calibration:
        return None
    kind, endpoint = parts
    models, dc = _entries(report, endpoint)
    where = f" for {endpoint}" if endpoint else ""
    if kind == "calibration":
        each = "; ".join(
            f"{m}: Brier {_num(e['calibration'].get('brier'))}, slope "
            f"{_num(e['calibration'].get('slope'))}, intercept "
            f"{_num(e['calibration'].get('intercept'))}"
            for m, e in models.items()
        )
        return (
            f"Calibration curves{where}: observed proportion against predicted risk, binned "
            f"points and a smoothed curve per model, with the ideal diagonal. {each}."
        )
    names = ", ".join(map(str, (dc or {}).get("models", {})))
    return (
        f"Decision curves{where}: net benefit against threshold probability for {names}, "
        "with the treat-all and treat-none references."
    )
