"""The per-endpoint part of report.md / report.html and its CSV tables and figures.

For every endpoint of a multi-endpoint report: model performance (case, slice and scan level),
seed 002's Table 3 layout (model, each reader, readers mean ± SD; accuracy, sensitivity,
specificity, F1, AUC), the mixed-model contrasts, the OR/DBM tests, agreement, confusion-matrix
heatmaps (multi-class endpoints) and the model-reader discordance table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import plots
from .endpoint_report import EndpointResult
from .performance import METRIC_LABELS, ModelPerformance, fmt_ci, fmt_num
from .tables import table3

if TYPE_CHECKING:
    from .report import Report

SEED002_METRICS = {
    "accuracy": "Accuracy",
    "sensitivity": "Sensitivity",
    "specificity": "Specificity",
    "f1": "F1",
    "auc_binary": "AUC",
}
MAX_READER_ROWS = 20  # more readers: the mean ± SD rows only (every reader is in the CSV)


@dataclass
class Part:
    """One heading of the endpoint part: a table, notes and figures below it."""

    level: int
    anchor: str
    heading: str
    table: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name)) or "endpoint"


def mean_sd_text(values: pd.Series, digits: int = 2) -> str:
    """Mean ± sample SD (ddof 1) as seed 002's Table 3 prints it, e.g. "0.35 ± 0.21"."""
    v = values.dropna()
    if v.empty:
        return "NA"
    sd = f"{v.std(ddof=1):.{digits}f}" if len(v) > 1 else "NA"
    return f"{v.mean():.{digits}f} ± {sd}"


def seed002_table(res: EndpointResult, max_readers: int = MAX_READER_ROWS) -> pd.DataFrame:
    """Seed 002's Table 3 for one binary endpoint: the model, each reader, and per reader
    condition the readers' mean ± sample SD; a reader's AUC is (Se + Sp) / 2, the model's the
    AUC of its scores when it has them."""
    if res.per_reader is None:
        return pd.DataFrame()
    pr = res.per_reader
    rows: list[dict[str, Any]] = []
    model = pr[pr["condition"] == "model"]
    if not model.empty:
        row: dict[str, Any] = {"": "Model"}
        for k, label in SEED002_METRICS.items():
            row[label] = f"{model.iloc[0][k]:.2f}"
        if res.performance is not None:
            row["AUC"] = f"{res.performance.auc:.2f}"
        rows.append(row)
    for cond in res.reader_conditions:
        sub = pr[pr["condition"] == cond]
        if len(sub) <= max_readers:
            for _, r in sub.iterrows():
                row = {"": f"{r['reader']} ({cond})"}
                row.update({lab: fmt_num(r[k], 2) for k, lab in SEED002_METRICS.items()})
                rows.append(row)
        row = {"": f"Readers {cond}, mean ± SD (n = {len(sub)})"}
        row.update({lab: mean_sd_text(sub[k]) for k, lab in SEED002_METRICS.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def _performance_rows(level: str, perf: ModelPerformance) -> list[dict[str, Any]]:
    """One row per operating point: AUC (first row of the level), threshold and metrics."""
    rows = []
    for i, (name, op) in enumerate(perf.points.items()):
        cis = perf.point_cis[name]
        m = op.metrics
        row: dict[str, Any] = {
            "Level": level if i == 0 else "",
            "AUC [95% CI]": fmt_ci(perf.auc, *perf.auc_ci_bootstrap, 3) if i == 0 else "",
            "Operating point": op.rule,
            "Threshold": f"{op.threshold:.4g}",
            "TP / FP": f"{op.confusion.tp} / {op.confusion.fp}",
        }
        for k in ("sensitivity", "specificity", "accuracy", "f1"):
            row[METRIC_LABELS[k]] = fmt_ci(m[k], *cis[k], 3)
        rows.append(row)
    return rows


def performance_table(res: EndpointResult) -> pd.DataFrame | None:
    """The model's AUC (percentile-bootstrap CI) and its metrics at each operating point, at
    case level and, with slice scores, at slice and scan level."""
    sp = res.scores
    if sp is None or sp.case is None:
        return None
    case_label = "case" if sp.case_source == "case" else "scan (max over slices)"
    rows = _performance_rows(case_label, sp.case)
    if sp.slice is not None:
        rows += _performance_rows("slice", sp.slice)
    if sp.scan is not None and sp.case_source == "case":
        rows += _performance_rows("scan (max over slices)", sp.scan)
    return pd.DataFrame(rows)


def _lmm_table(res: EndpointResult) -> pd.DataFrame | None:
    if res.lmm is None:
        return None
    t = table3(res.lmm)
    if t.empty:
        return None
    cols = ["endpoint", "contrast", "performance_display", "difference_display", "p_display"]
    return t[cols].rename(
        columns={
            "endpoint": "Outcome",
            "contrast": "Contrast",
            "performance_display": "Mean [95% CI]",
            "difference_display": "Difference [95% CI]",
            "p_display": "p",
        }
    )


def _mrmc_table(res: EndpointResult) -> pd.DataFrame | None:
    if not res.mrmc:
        return None
    from .render import mrmc_summary_of

    t = mrmc_summary_of(res.mrmc)
    t = t[t["analysis"] == "or_rrrc"].drop(columns="analysis")
    return t.rename(columns={"fom": "FOM (OR-RRRC)", "comparison": "Comparison"})


def _agreement_table(res: EndpointResult) -> pd.DataFrame | None:
    rows = []
    for cond, a in res.agreement.items():
        for level, entry in (("case", a), ("slice", a.get("slice"))):
            if not entry:
                continue
            rows.append(
                {
                    "condition": cond,
                    "level": level,
                    "readers": entry.get("n_readers"),
                    "units": entry.get("n_cases", entry.get("n_slices")),
                    "Fleiss kappa": entry.get("fleiss_kappa"),
                    "mean Cohen kappa": entry.get("mean_cohen_kappa"),
                    "percent agreement": entry.get("percent_agreement"),
                }
            )
    return pd.DataFrame(rows) if rows else None


def _confusion_table(res: EndpointResult) -> pd.DataFrame | None:
    if not res.confusion:
        return None
    rows = [
        {
            "condition": cond,
            "reads": c["n"],
            "accuracy": c["accuracy"],
            "macro F1": c["macro_f1"],
            "micro F1": c["micro_f1"],
            **{f"F1 {pc['label']}": pc["f1"] for pc in c["per_class"]},
        }
        for cond, c in res.confusion.items()
    ]
    return pd.DataFrame(rows)


def _count(entry: dict[str, Any], binary: bool) -> str:
    if not binary:
        return str(entry["n"])
    return f"{entry['n']} ({entry['n_positive']} positive, {entry['n_negative']} negative)"


def discordance_table(res: EndpointResult) -> pd.DataFrame | None:
    """Per reader condition: the cases the model got right and every reader missed, the
    reverse, and the readers' true-positive overlap with the model (seed 002)."""
    if not res.discordance:
        return None
    rows = []
    for cond, d in res.discordance.items():
        row: dict[str, Any] = {
            "condition": cond,
            "readers": d["n_readers"],
            "cases": d["n_cases"],
            "model right, every reader wrong": _count(d["model_right_all_readers_wrong"], res.binary),
            "every reader right, model wrong": _count(d["all_readers_right_model_wrong"], res.binary),
            "model right, reader wrong (mean per reader)": f"{d['mean_model_right_reader_wrong']:.1f}",
        }  # fmt: skip
        if res.binary:
            overlap = [r["tp_overlap"] for r in d["per_reader"] if r["tp_overlap"] is not None]
            row["positives the model found and the reader missed (mean)"] = (
                f"{d['mean_model_tp_reader_fn']:.1f}"
            )
            row["reader TPs also found by the model (mean share)"] = (
                f"{np.mean(overlap):.2f}" if overlap else "NA"
            )
        rows.append(row)
    return pd.DataFrame(rows)


def discordance_readers(res: EndpointResult) -> pd.DataFrame | None:
    """The per-reader true-positive overlap ("14 of 16"), for binary endpoints."""
    if not res.discordance or not res.binary:
        return None
    rows = [
        {
            "condition": cond,
            "reader": r["reader"],
            "reader TP": r["reader_tp"],
            "also found by the model": f"{r['both_tp']} of {r['reader_tp']}",
            "model TP the reader missed": r["model_tp_reader_fn"],
            "model right, reader wrong": r["model_right_reader_wrong"],
            "reader right, model wrong": r["reader_right_model_wrong"],
        }
        for cond, d in res.discordance.items()
        for r in d["per_reader"]
    ]
    return pd.DataFrame(rows)


def overview_table(report: Report) -> pd.DataFrame:
    """One row per endpoint: kind, cases, model AUC and reader accuracy per condition."""
    rows = []
    for name, res in report.endpoint_results.items():
        cases = res.reads.drop_duplicates("case")
        row: dict[str, Any] = {
            "endpoint": name,
            "kind": res.kind,
            "cases": len(cases),
            "positive": int(cases["truth"].sum()) if res.binary else "",
        }
        perf = res.performance
        row["model AUC [95% CI]"] = (
            fmt_ci(perf.auc, *perf.auc_ci_bootstrap, 3) if perf is not None else ""
        )
        for cond in res.reader_conditions:
            acc = res.reads.loc[res.reads["condition"] == cond, "correct"].mean()
            row[f"accuracy {cond}"] = acc
        rows.append(row)
    return pd.DataFrame(rows)


def _log_loss_notes(report: Report) -> list[str]:
    ll = report.log_loss
    if not ll:
        return []
    return [
        f"Weighted multi-label log-loss over {ll['n_units']} {ll['level']}s "
        f"({', '.join(f'{k} x{v:g}' for k, v in ll['weights'].items())}): "
        f"seed form {ll['seed_form']:.6f}, RSNA form {ll['rsna_form']:.6f}."
    ]


def _endpoint_parts(name: str, res: EndpointResult) -> list[Part]:
    a = f"endpoint-{safe_name(name)}"
    parts = [Part(2, a, f"Endpoint {name} ({res.kind})", None, list(res.notes))]
    perf = performance_table(res)
    if perf is not None:
        parts.append(Part(3, f"{a}-model", "Model performance", perf))
    if res.binary:
        note = (
            "Seed 002's Table 3 layout: a reader's AUC from binary calls is (sensitivity + "
            "specificity) / 2; mean ± sample SD (ddof 1) across readers"
        )
        if res.performance is not None:
            note += "; the model's AUC is that of its scores"
        n = res.per_reader["condition"].value_counts() if res.per_reader is not None else None
        if n is not None and (n > MAX_READER_ROWS).any():
            note += f"; individual readers are listed up to {MAX_READER_ROWS} per condition"
        parts.append(Part(3, f"{a}-readers", "Readers", seed002_table(res), [note + "."]))
    else:
        parts.append(
            Part(
                3,
                f"{a}-confusion",
                "Confusion matrices (rows: truth, columns: decision)",
                _confusion_table(res),
                figures=[f"confusion_{safe_name(name)}"],
            )
        )
    for key, heading, table in (
        ("lmm", "Mixed models (difference vs the reference)", _lmm_table(res)),
        ("mrmc", "MRMC (Obuchowski-Rockette, random readers and cases)", _mrmc_table(res)),
        ("agreement", "Agreement between readers", _agreement_table(res)),
        ("discordance", "Model-reader discordance", discordance_table(res)),
    ):
        if table is not None:
            parts.append(Part(3, f"{a}-{key}", heading, table))
    readers = discordance_readers(res)
    if readers is not None and len(readers) <= 3 * MAX_READER_ROWS:
        parts.append(Part(3, f"{a}-overlap", "True-positive overlap with the model", readers))
    return parts


def endpoint_parts(report: Report) -> list[Part]:
    """The overview and every endpoint's section, in order."""
    if not report.by_endpoint:
        return []
    notes = [
        f"The tables above are those of the primary endpoint {report.primary_endpoint!r}; "
        "every endpoint follows."
    ] + _log_loss_notes(report)
    parts = [Part(2, "endpoints", "Endpoints", overview_table(report), notes)]
    for name, res in report.endpoint_results.items():
        parts += _endpoint_parts(name, res)
    return parts


def endpoint_figures(report: Report, out: Path, fmts: tuple[str, ...]) -> dict[str, list[Path]]:
    """Confusion-matrix heatmaps of the multi-class endpoints."""
    figs: dict[str, list[Path]] = {}
    if not fmts:
        return figs
    for name, res in report.endpoint_results.items():
        if res.confusion:
            key = f"confusion_{safe_name(name)}"
            fig = plots.confusion_figure(res.confusion, f"{name}: confusion matrices")
            figs[key] = plots.save(fig, out / key, fmts)
    return figs


def endpoint_csv_tables(report: Report) -> dict[str, pd.DataFrame]:
    """endpoint_per_reader.csv, endpoint_table3.csv (seed 002 layout), endpoint_mrmc.csv,
    endpoint_discordance.csv, endpoint_confusion.csv (long: condition, truth, decision, n)."""
    if not report.by_endpoint:
        return {}
    per_reader, t3, mrmc, disc, conf = [], [], [], [], []
    for name, res in report.endpoint_results.items():
        if res.per_reader is not None:
            per_reader.append(res.per_reader.assign(endpoint=name))
            t3.append(seed002_table(res, max_readers=10**9).assign(endpoint=name))
        m = _mrmc_table(res)
        if m is not None:
            from .render import mrmc_summary_of

            mrmc.append(mrmc_summary_of(res.mrmc).assign(endpoint=name))
        d = discordance_readers(res)
        if d is not None:
            disc.append(d.assign(endpoint=name))
        for cond, c in (res.confusion or {}).items():
            for i, t in enumerate(c["labels"]):
                for j, dcs in enumerate(c["labels"]):
                    conf.append(
                        {
                            "endpoint": name,
                            "condition": cond,
                            "truth": t,
                            "decision": dcs,
                            "n": c["matrix"][i][j],
                        }
                    )
    out = {
        "endpoint_per_reader": per_reader,
        "endpoint_table3": t3,
        "endpoint_mrmc": mrmc,
        "endpoint_discordance": disc,
    }
    tables = {
        k: _first_col(pd.concat(v, ignore_index=True), "endpoint") for k, v in out.items() if v
    }
    if conf:
        tables["endpoint_confusion"] = pd.DataFrame(conf)
    return tables


def _first_col(df: pd.DataFrame, col: str) -> pd.DataFrame:
    return df[[col, *[c for c in df.columns if c != col]]]


def parts_markdown(
    parts: list[Part],
    figs: dict[str, list[Path]],
    md_table: Any,
) -> list[str]:
    out: list[str] = []
    for part in parts:
        out += ["", f"{'#' * part.level} {part.heading}"]
        if part.table is not None and not part.table.empty:
            out += ["", md_table(part.table)]
        out += ["", *part.notes] if part.notes else []
        for key in part.figures:
            if key in figs:
                out += ["", f"![{key}]({figs[key][0].name})"]
    return out


def parts_html(parts: list[Part], figs: dict[str, list[Path]], tab: Any) -> list[str]:
    import base64
    import html

    esc = html.escape
    body: list[str] = []
    for part in parts:
        body.append(f'<h{part.level} id="{esc(part.anchor)}">{esc(part.heading)}</h{part.level}>')
        if part.table is not None and not part.table.empty:
            body.append(tab(part.table))
        body += [f'<p class="note">{esc(note)}</p>' for note in part.notes]
        for key in part.figures:
            paths = figs.get(key) or []
            png = [p for p in paths if p.suffix == ".png"]
            if png:
                data = base64.b64encode(png[0].read_bytes()).decode()
                body.append(f'<img alt="{esc(key)}" src="data:image/png;base64,{data}">')
            elif paths:
                body.append(f'<img alt="{esc(key)}" src="{esc(paths[0].name)}">')
    return body
