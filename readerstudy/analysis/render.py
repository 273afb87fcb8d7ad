"""Write a Report to disk: JSON, CSV, Markdown, HTML, PNG/SVG figures."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import numpy as np
import pandas as pd

from . import plots

MD_TABLE2 = ["section", "item", "display"]
MD_TABLE3 = ["section", "endpoint", "performance_display", "difference_display", "p_display"]
HEADERS = {
    "section": "",
    "item": "",
    "display": "Estimate [95% CI]",
    "endpoint": "",
    "performance_display": "Average reader performance [95% CI]",
    "difference_display": "Difference [95% CI]",
    "p_display": "p",
}


def _view(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return df[columns].rename(columns=HEADERS)


def _cell(v) -> str:
    if isinstance(v, float | np.floating):
        return "NA" if not np.isfinite(v) else f"{v:.4f}"
    return str(v)


def md_table(df: pd.DataFrame, columns: list[str] | None = None) -> str:
    df = df[columns] if columns else df
    head = "| " + " | ".join(map(str, df.columns)) + " |"
    sep = "|" + "|".join("---" for _ in df.columns) + "|"
    body = [
        "| " + " | ".join(_cell(v).replace("|", "/") for v in row) + " |"
        for row in df.itertuples(index=False)
    ]
    return "\n".join([head, sep, *body])


def mrmc_summary(report) -> pd.DataFrame:
    rows = []
    for fom, res in report.mrmc.items():
        d = res.to_dict()
        for name in ("or_rrrc", "or_frrc", "or_rrfc", "dbm_rrrc"):
            r = d[name]
            rows.append(
                {
                    "fom": fom,
                    "analysis": name,
                    "comparison": d["comparison"],
                    "unaided": d["means"].get("unaided"),
                    "aided": d["means"].get("aided"),
                    "diff": r["diff"],
                    "se": r["se"],
                    "df": r.get("df"),
                    "ci_low": r["ci_low"],
                    "ci_high": r["ci_high"],
                    "p": r["p"],
                    "F": r.get("F", r.get("X2")),
                    "ddf": r.get("ddf"),
                }
            )
    return pd.DataFrame(rows)


def _figures(report, out: Path, fmts: tuple[str, ...]) -> dict[str, list[Path]]:
    figs: dict[str, list[Path]] = {}
    if not fmts:
        return figs
    perf = report.performance
    model_pt = None
    if perf is not None and report.options.operating_point in perf.points:
        m = perf.points[report.options.operating_point].metrics
        model_pt = (1 - m["specificity"], m["sensitivity"])
    elif (report.per_reader["condition"] == "model").any():
        row = report.per_reader[report.per_reader["condition"] == "model"].iloc[0]
        model_pt = (1 - row["specificity"], row["sensitivity"])
    fig = plots.roc_figure(
        perf.roc if perf else None, report.per_reader, model_pt, auc=perf.auc if perf else None
    )
    figs["roc"] = plots.save(fig, out / "roc", fmts)
    fom = "auc" if "auc" in report.mrmc else ("accuracy" if "accuracy" in report.mrmc else None)
    if fom:
        res = report.mrmc[fom]
        label = {"auc": "Difference in AUC", "accuracy": "Difference in accuracy"}[fom]
        fig = plots.forest_figure(
            res.per_reader(), res.to_dict()["or_rrrc"], f"{label} (aided - unaided), 95% CI"
        )
        figs["forest"] = plots.save(fig, out / "forest", fmts)
    return figs


def _markdown(report, figs: dict[str, list[Path]]) -> str:
    meta = report.meta
    parts = [
        "# Reader study report",
        "",
        f"{meta['n_readers']} readers, {meta['n_cases']} cases "
        f"({meta['n_positive_cases']} positive), {meta['n_reads']} reads; conditions: "
        f"{', '.join(meta['conditions'])}. Created {meta['created']}.",
        "",
    ]
    for note in meta["notes"]:
        parts.append(f"- {note}")
    if report.table2 is not None:
        parts += [
            "",
            "## Table 2 - model performance",
            "",
            md_table(_view(report.table2, MD_TABLE2)),
        ]
    if report.table3 is not None:
        opt = report.options
        parts += [
            "",
            "## Table 3 - readers without / with the model (LMM)",
            "",
            f"`correct ~ condition + (1 | case)`-type models ({opt.lmm_mode} fits, random "
            f"{opt.lmm_random}, backend {opt.backend}); REML, Satterthwaite df, "
            "unadjusted t-based 95% CIs.",
            "",
            md_table(_view(report.table3, MD_TABLE3)),
        ]
    if report.mrmc:
        parts += [
            "",
            "## MRMC (Obuchowski-Rockette / DBM, Hillis ddf)",
            "",
            md_table(mrmc_summary(report)),
        ]
    if report.pooled is not None:
        parts += ["", "## Pooled counts", "", md_table(report.pooled)]
    if report.per_reader is not None:
        parts += ["", "## Per reader", "", md_table(report.per_reader)]
    if report.agreement:
        agr = pd.DataFrame([{"condition": k, **v} for k, v in report.agreement.items()])
        parts += ["", "## Agreement between readers", "", md_table(agr)]
    for name, paths in figs.items():
        parts += ["", f"![{name}]({paths[0].name})"]
    if report.skipped:
        parts += ["", "## Not computed", ""]
        parts += [f"- `{k}`: {v}" for k, v in report.skipped.items()]
    return "\n".join(parts) + "\n"


def _html(report, figs: dict[str, list[Path]]) -> str:
    def tab(df, cols=None):
        d = df[cols] if cols else df
        return d.to_html(
            index=False, na_rep="NA", float_format=lambda v: f"{v:.4f}", border=0, classes="table"
        )

    body = [
        f"<h1>Reader study report</h1><p>{html.escape(str(report.meta['n_readers']))} "
        f"readers, {report.meta['n_cases']} cases, {report.meta['n_reads']} reads.</p>"
    ]
    if report.table2 is not None:
        body += ["<h2>Table 2 &ndash; model performance</h2>", tab(_view(report.table2, MD_TABLE2))]
    if report.table3 is not None:
        body += [
            "<h2>Table 3 &ndash; readers without / with the model</h2>",
            tab(_view(report.table3, MD_TABLE3)),
        ]
    if report.mrmc:
        body += ["<h2>MRMC</h2>", tab(mrmc_summary(report))]
    if report.per_reader is not None:
        body += ["<h2>Per reader</h2>", tab(report.per_reader)]
    for name, paths in figs.items():
        png = [p for p in paths if p.suffix == ".png"]
        if png:
            data = base64.b64encode(png[0].read_bytes()).decode()
            body.append(f'<h2>{name}</h2><img alt="{name}" src="data:image/png;base64,{data}">')
        else:
            body.append(f'<h2>{name}</h2><img alt="{name}" src="{paths[0].name}">')
    if report.skipped:
        items = "".join(
            f"<li><code>{html.escape(k)}</code>: {html.escape(v)}</li>"
            for k, v in report.skipped.items()
        )
        body.append(f"<h2>Not computed</h2><ul>{items}</ul>")
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:auto}"
        ".table{border-collapse:collapse;font-size:13px}"
        ".table td,.table th{padding:2px 8px;border-bottom:1px solid #ddd}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Reader study report"
        f"</title><style>{style}</style></head><body>{''.join(body)}</body></html>\n"
    )


def write_report(report, out: Path, formats: tuple[str, ...]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    img_fmts = tuple(f for f in ("png", "svg") if f in formats)
    if "html" in formats and "png" not in img_fmts and "svg" not in img_fmts:
        img_fmts = ("png",)
    figs = _figures(report, out, img_fmts) if img_fmts else {}
    for paths in figs.values():
        written += paths
    if "json" in formats:
        p = out / "report.json"
        p.write_text(json.dumps(report.to_dict(), indent=2, allow_nan=False) + "\n")
        written.append(p)
    if "csv" in formats:
        tables = {
            "table2": report.table2,
            "table3": report.table3,
            "per_reader": report.per_reader,
            "pooled_counts": report.pooled,
            "reader_summary": report.group,
            "delong_per_reader": report.delong,
            "mrmc_summary": mrmc_summary(report) if report.mrmc else None,
        }
        for fom, res in report.mrmc.items():
            tables[f"mrmc_{fom}_per_reader"] = res.per_reader()
        for name, df in tables.items():
            if df is not None:
                p = out / f"{name}.csv"
                df.to_csv(p, index=False)
                written.append(p)
    if "md" in formats:
        p = out / "report.md"
        p.write_text(_markdown(report, figs))
        written.append(p)
    if "html" in formats:
        p = out / "report.html"
        p.write_text(_html(report, figs))
        written.append(p)
    return written
