"""Figures (matplotlib Agg canvas, no pyplot state): a seed-000 Fig.-4-style ROC plot and a
forest plot of per-reader differences. Saved as PNG and/or SVG."""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .roc import RocCurve

COLORS = {"model": "#d62728", "unaided": "#1f77b4", "aided": "#8c3fbf"}
_RC = {"svg.hashsalt": "readerstudy", "svg.fonttype": "none"}


def save(fig: Figure, stem: Path, formats: tuple[str, ...] = ("png", "svg")) -> list[Path]:
    FigureCanvasAgg(fig)
    out = []
    with mpl.rc_context(_RC):
        for fmt in formats:
            path = stem.with_suffix(f".{fmt}")
            meta = {"Date": None} if fmt == "svg" else {}
            fig.savefig(path, format=fmt, dpi=150, metadata=meta)
            out.append(path)
    return out


def roc_figure(
    curve: RocCurve | None,
    per_reader: pd.DataFrame,
    model_point: tuple[float, float] | None = None,
    title: str = "Model ROC and reader operating points",
    auc: float | None = None,
) -> Figure:
    """``per_reader`` has columns condition, reader, sensitivity, specificity; each reader's
    unaided -> aided move is an arrow; the reader averages are large stars."""
    fig = Figure(figsize=(5.6, 5.4))
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.1, top=0.93)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], ls=":", color="0.6", lw=0.8)
    if curve is not None:
        label = "Model ROC" + (f" (AUC {auc:.3f})" if auc is not None else "")
        ax.plot(curve.fpr, curve.tpr, color=COLORS["model"], lw=1.6, label=label)
    pts = per_reader[per_reader["condition"].isin(["unaided", "aided"])]
    if {"unaided", "aided"} <= set(pts["condition"]):
        wide = pts.pivot(
            index="reader", columns="condition", values=["sensitivity", "specificity"]
        ).dropna()
        x0 = 1 - wide[("specificity", "unaided")].to_numpy()
        y0 = wide[("sensitivity", "unaided")].to_numpy()
        x1 = 1 - wide[("specificity", "aided")].to_numpy()
        y1 = wide[("sensitivity", "aided")].to_numpy()
        ax.quiver(
            x0,
            y0,
            x1 - x0,
            y1 - y0,
            angles="xy",
            scale_units="xy",
            scale=1,
            color="0.55",
            width=0.003,
            headwidth=4,
            headlength=5,
            zorder=2,
        )
    for cond in ("unaided", "aided"):
        sub = pts[pts["condition"] == cond]
        if sub.empty:
            continue
        ax.scatter(
            1 - sub["specificity"],
            sub["sensitivity"],
            s=18,
            color=COLORS[cond],
            alpha=0.7,
            label=f"Readers {cond}",
        )
        ax.scatter(
            [1 - sub["specificity"].mean()],
            [sub["sensitivity"].mean()],
            marker="*",
            s=220,
            color=COLORS[cond],
            edgecolor="k",
            lw=0.6,
            zorder=5,
            label=f"Reader average {cond}",
        )
    if {"unaided", "aided"} <= set(pts["condition"]):
        avg = pts.groupby("condition")[["sensitivity", "specificity"]].mean()
        ax.annotate(
            "",
            xy=(1 - avg.loc["aided", "specificity"], avg.loc["aided", "sensitivity"]),
            xytext=(1 - avg.loc["unaided", "specificity"], avg.loc["unaided", "sensitivity"]),
            arrowprops={"arrowstyle": "-|>", "color": "k", "lw": 1.2},
            zorder=4,
        )
    if model_point is not None:
        ax.scatter(
            [model_point[0]],
            [model_point[1]],
            marker="*",
            s=260,
            color=COLORS["model"],
            edgecolor="k",
            lw=0.6,
            zorder=6,
            label="Model operating point",
        )
    ax.set(
        xlim=(-0.02, 1.02),
        ylim=(-0.02, 1.02),
        xlabel="1 - specificity",
        ylabel="Sensitivity",
        title=title,
        aspect="equal",
    )
    ax.legend(loc="lower right", fontsize=7, frameon=False)
    return fig


def forest_figure(
    per_reader: pd.DataFrame,
    overall: dict | None,
    label: str,
    title: str = "Per-reader difference (aided - unaided)",
) -> Figure:
    """``per_reader``: reader, diff, diff_ci_low, diff_ci_high; ``overall``: diff, ci_low,
    ci_high (e.g. OR-RRRC)."""
    n = len(per_reader) + (1 if overall else 0)
    height = min(2.0 + 0.26 * n, 14.0)
    fig = Figure(figsize=(6.4, height))
    fig.subplots_adjust(left=0.28, right=0.97, bottom=0.9 / height, top=1 - 0.45 / height)
    ax = fig.add_subplot()
    ys = np.arange(len(per_reader))[::-1] + (1.5 if overall else 0)
    ax.errorbar(
        per_reader["diff"],
        ys,
        xerr=[
            per_reader["diff"] - per_reader["diff_ci_low"],
            per_reader["diff_ci_high"] - per_reader["diff"],
        ],
        fmt="s",
        color="k",
        ms=4,
        capsize=2,
        lw=0.9,
    )
    labels = [f"Reader {r}" for r in per_reader["reader"]]
    ticks = list(ys)
    if overall:
        d, lo, hi = overall["diff"], overall["ci_low"], overall["ci_high"]
        ax.fill([lo, d, hi, d], [0, 0.3, 0, -0.3], color=COLORS["aided"])
        labels.append("Average (OR-RRRC)")
        ticks.append(0)
    ax.axvline(0, color="0.5", ls="--", lw=0.8)
    ax.set_ylim(-0.8, (max(ys) if len(ys) else 0) + 0.8)
    ax.set_yticks(ticks, labels, fontsize=8 if n <= 40 else max(3, int(320 / n)))
    ax.set_xlabel(label)
    ax.set_title(title, fontsize=10)
    return fig
