"""Figures (matplotlib Agg canvas, no pyplot state): a seed-000 Fig.-4-style ROC plot, a
forest plot of per-reader differences and confusion-matrix heatmaps. Saved as PNG and/or SVG."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .roc import RocCurve

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

COLORS = {"model": "#d62728", "unaided": "#1f77b4", "aided": "#8c3fbf"}
_PALETTE = ("#1f77b4", "#8c3fbf", "#2ca02c", "#ff7f0e", "#17becf", "#7f7f7f")


def _color(condition: str, index: int) -> str:
    """A condition's colour: the fixed ones for unaided / aided / model, else by position."""
    return COLORS.get(condition, _PALETTE[index % len(_PALETTE)])


_RC: dict[RcKeyType, Any] = {"svg.hashsalt": "readerstudy", "svg.fonttype": "none"}


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
    conditions: tuple[str, ...] = ("unaided", "aided"),
) -> Figure:
    """``per_reader`` has columns condition, reader, sensitivity, specificity; each reader's
    move from the first to the second of ``conditions`` (unaided -> aided) is an arrow; the
    reader averages are large stars."""
    first, second = conditions[0], conditions[1]
    fig = Figure(figsize=(5.6, 5.4))
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.1, top=0.93)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], ls=":", color="0.6", lw=0.8)
    if curve is not None:
        label = "Model ROC" + (f" (AUC {auc:.3f})" if auc is not None else "")
        ax.plot(curve.fpr, curve.tpr, color=COLORS["model"], lw=1.6, label=label)
    pts = per_reader[per_reader["condition"].isin([first, second])]
    if {first, second} <= set(pts["condition"]):
        wide = pts.pivot(
            index="reader", columns="condition", values=["sensitivity", "specificity"]
        ).dropna()
        x0 = 1 - wide[("specificity", first)].to_numpy()
        y0 = wide[("sensitivity", first)].to_numpy()
        x1 = 1 - wide[("specificity", second)].to_numpy()
        y1 = wide[("sensitivity", second)].to_numpy()
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
    for cond in (first, second):
        sub = pts[pts["condition"] == cond]
        if sub.empty:
            continue
        ax.scatter(
            1 - sub["specificity"],
            sub["sensitivity"],
            s=18,
            color=_color(cond, 1 if cond == second else 0),
            alpha=0.7,
            label=f"Readers {cond}",
        )
        ax.scatter(
            [1 - sub["specificity"].mean()],
            [sub["sensitivity"].mean()],
            marker="*",
            s=220,
            color=_color(cond, 1 if cond == second else 0),
            edgecolor="k",
            lw=0.6,
            zorder=5,
            label=f"Reader average {cond}",
        )
    if {first, second} <= set(pts["condition"]):
        avg = pts.groupby("condition")[["sensitivity", "specificity"]].mean()
        ax.annotate(
            "",
            xy=(1 - avg["specificity"][second], avg["sensitivity"][second]),
            xytext=(1 - avg["specificity"][first], avg["sensitivity"][first]),
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
    overall: dict[str, Any] | None,
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


def confusion_figure(
    confusion: dict[str, dict[str, Any]], title: str = "Confusion matrices"
) -> Figure:
    """One heatmap per condition (``confusion``: {condition: {"labels", "matrix", "accuracy",
    "macro_f1"}}): rows = truth, columns = decision; colour = share of the truth row, text =
    count."""
    conds = list(confusion)
    k = len(next(iter(confusion.values()))["labels"]) if conds else 1
    size = 1.1 + 0.55 * k
    fig = Figure(figsize=(0.6 + size * max(len(conds), 1), size + 0.9))
    fig.subplots_adjust(left=0.12, right=0.98, bottom=0.22, top=0.82, wspace=0.45)
    fig.suptitle(title, fontsize=10)
    for i, cond in enumerate(conds):
        entry = confusion[cond]
        m = np.asarray(entry["matrix"], dtype=float)
        labels = entry["labels"]
        share = m / np.where(m.sum(axis=1, keepdims=True) > 0, m.sum(axis=1, keepdims=True), 1)
        ax = fig.add_subplot(1, len(conds), i + 1)
        ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
        for (r, c), v in np.ndenumerate(m):
            ax.text(
                c,
                r,
                f"{int(v)}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if share[r, c] > 0.6 else "black",
            )
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(len(labels)), labels if i == 0 else [""] * len(labels), fontsize=7)
        ax.set_xlabel("Decision", fontsize=8)
        if i == 0:
            ax.set_ylabel("Truth", fontsize=8)
        acc, f1 = entry.get("accuracy"), entry.get("macro_f1")
        sub = f"acc {acc:.2f}, macro F1 {f1:.2f}" if acc is not None and f1 is not None else ""
        ax.set_title(f"{cond}\n{sub}", fontsize=8)
    return fig
