"""Empirical FROC / AFROC / wAFROC (and LROC) curves, their figures, and the ``froc``
command's ``report.json``.

Operating points are taken at every distinct mark rating, highest first:

* FROC: NLF = NL marks rated >= t / K (all cases), LLF = LL marks rated >= t / L_T;
* AFROC: FPF = non-diseased cases whose highest NL is >= t / K1, LLF as above, extended by a
  straight line to (1, 1) (its area is the AFROC FOM);
* wAFROC: FPF as AFROC, wLLF = sum of the weights of lesions rated >= t / K2, extended to
  (1, 1) (its area is the wAFROC FOM);
* LROC: FPF and PCL (diseased cases correctly localised with rating >= t / K2), flat to FPF 1.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .froc import FrocAnalysis
from .froc_fom import lroc_points
from .froc_io import FrocDataset
from .plots import save

CURVES_FROC = ("FROC", "AFROC", "wAFROC")
_AXES = {
    "FROC": ("NLF (non-lesion marks per case)", "LLF"),
    "AFROC": ("FPF", "LLF"),
    "wAFROC": ("FPF", "wLLF"),
    "LROC": ("FPF", "PCL"),
}


@dataclass(frozen=True)
class Curve:
    kind: str
    modality: str
    reader: str
    x: np.ndarray
    y: np.ndarray

    def area(self) -> float:
        return float(np.sum(np.diff(self.x) * (self.y[1:] + self.y[:-1]) / 2))


def _ge_counts(sorted_vals: np.ndarray, zetas: np.ndarray) -> np.ndarray:
    return sorted_vals.size - np.searchsorted(sorted_vals, zetas, side="left")


def empirical_curves(ds: FrocDataset, i: int, j: int) -> dict[str, Curve]:
    """Curves of modality ``i``, reader ``j``: FROC, AFROC and wAFROC (LROC data: LROC)."""
    mod, rdr = ds.modalities[i], ds.readers[j]
    nl_sel = (ds.nl_m == i) & (ds.nl_r == j)
    ll_sel = (ds.ll_m == i) & (ds.ll_r == j)
    nl_top, _ = ds.nl_arrays()
    fp = nl_top[i, j, : ds.k1]
    if ds.paradigm == "LROC":
        cl = np.full(ds.k2, -np.inf)
        cl[ds.ll_k2[ll_sel]] = ds.ll_rating[ll_sel]
        x, y = lroc_points(fp, cl)
        return {"LROC": Curve("LROC", mod, rdr, x, y)}
    nl_all = np.sort(ds.nl_rating[nl_sel])
    ll_r = ds.ll_rating[ll_sel]
    w = ds.weight_matrix()[ds.ll_k2[ll_sel], ds.ll_l[ll_sel]]
    order = np.argsort(ll_r)
    ll_sorted, w_sorted = ll_r[order], w[order]
    w_cum = np.concatenate([[0.0], np.cumsum(w_sorted)])
    zetas = np.unique(np.concatenate([nl_all, ll_r]))[::-1]
    n_les = int(ds.lesions_per_case.sum())
    k = ds.k1 + ds.k2
    llf = _ge_counts(ll_sorted, zetas) / n_les
    nlf = _ge_counts(nl_all, zetas) / k
    fpf = _ge_counts(np.sort(fp), zetas) / max(ds.k1, 1)
    wllf = (w_cum[-1] - w_cum[np.searchsorted(ll_sorted, zetas, side="left")]) / ds.k2
    z0 = np.zeros(1)
    return {
        "FROC": Curve("FROC", mod, rdr, np.concatenate([z0, nlf]), np.concatenate([z0, llf])),
        "AFROC": Curve(
            "AFROC", mod, rdr, np.concatenate([z0, fpf, [1.0]]), np.concatenate([z0, llf, [1.0]])
        ),
        "wAFROC": Curve(
            "wAFROC",
            mod,
            rdr,
            np.concatenate([z0, fpf, [1.0]]),
            np.concatenate([z0, wllf, [1.0]]),
        ),
    }


def curve_figure(ds: FrocDataset, kind: str, foms: dict[str, float] | None = None) -> Figure:
    """One panel per modality, one line per reader."""
    n = len(ds.modalities)
    cols = min(n, 3)
    rows = -(-n // cols)
    fig = Figure(figsize=(3.4 * cols, 3.2 * rows + 0.4))
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.1, top=0.88, wspace=0.3, hspace=0.45)
    xlabel, ylabel = _AXES[kind]
    x_max = 1.0
    curves = [[empirical_curves(ds, i, j)[kind] for j in range(len(ds.readers))] for i in range(n)]
    if kind == "FROC":
        x_max = max([float(c.x.max()) for row in curves for c in row] + [0.05]) * 1.05
    for i, mod in enumerate(ds.modalities):
        ax = fig.add_subplot(rows, cols, i + 1)
        if kind != "FROC":
            ax.plot([0, 1], [0, 1], ls=":", color="0.7", lw=0.8)
        for c in curves[i]:
            ax.plot(c.x, c.y, lw=1.1, marker="." if c.x.size < 30 else None, label=f"{c.reader}")
        title = f"modality {mod}"
        if foms and mod in foms:
            title += f" (mean FOM {foms[mod]:.3f})"
        ax.set_title(title, fontsize=9)
        ax.set_xlim(0, x_max)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.tick_params(labelsize=7)
        if i == 0:
            ax.legend(title="reader", fontsize=7, title_fontsize=7, loc="lower right")
    fig.suptitle(f"Empirical {kind} curves", fontsize=11)
    return fig


def _software() -> dict[str, str]:
    import matplotlib
    import pandas
    import scipy

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pandas.__version__,
        "scipy": scipy.__version__,
        "matplotlib": matplotlib.__version__,
    }


def report_dict(analysis: FrocAnalysis, source: str = "") -> dict[str, Any]:
    return {
        "meta": {
            "schema_version": 1,
            "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "source": source,
            "software": _software(),
        },
        "froc": analysis.to_dict(),
    }


def write_froc_report(
    analysis: FrocAnalysis,
    out: str | Path,
    formats: Sequence[str] = ("png", "svg"),
    source: str = "",
) -> list[Path]:
    """``out/report.json`` plus the curve figures (``froc``, ``afroc``, ``wafroc`` or ``lroc``)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.json"
    path.write_text(json.dumps(report_dict(analysis, source), indent=2, allow_nan=False))
    paths = [path]
    ds = analysis.dataset
    means = analysis.orr.means()
    kinds = CURVES_FROC if ds.paradigm == "FROC" else ("LROC",)
    for kind in kinds:
        fig = curve_figure(ds, kind, means if _fom_kind(analysis.fom) == kind else None)
        paths += save(fig, out / kind.lower(), tuple(formats))
    return paths


def _fom_kind(fom: str) -> str:
    return {"AFROC": "AFROC", "wAFROC": "wAFROC", "PCL": "LROC", "ALROC": "LROC"}.get(fom, "")
