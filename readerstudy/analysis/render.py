"""Write a Report to disk: JSON, CSV, Markdown, HTML, PNG/SVG figures."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import plots, report_text
from .performance import fmt_num
from .render_calibration import calibration_figures, figure_alt, figure_title
from .report_baseline import baseline_display, baseline_notes

if TYPE_CHECKING:
    from .render_endpoints import Part
    from .report import Report

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


def _cell(v: object) -> str:
    if isinstance(v, float | np.floating):
        return fmt_num(v)
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


def mrmc_summary(report: Report) -> pd.DataFrame:
    return mrmc_summary_of(report.mrmc)


def _pairwise_row(base: dict[str, Any], r: dict[str, Any], comparison: str) -> dict[str, Any]:
    return {
        **base,
        "comparison": comparison,
        "diff": r["diff"],
        "se": r["se"],
        "df": r.get("df"),
        "ci_low": r["ci_low"],
        "ci_high": r["ci_high"],
        "p": r["p"],
    }


def mrmc_summary_of(mrmc: dict[str, Any]) -> pd.DataFrame:
    """One row per FOM x analysis (two conditions), or per FOM x analysis x (overall test and
    each pairwise difference) with three or more; a column with the mean of each condition."""
    rows: list[dict[str, Any]] = []
    for fom, res in mrmc.items():
        d = res.to_dict(copy_=False)
        means = {c: d["means"].get(c) for c in res.conditions}
        for name in ("or_rrrc", "or_frrc", "or_rrfc", "dbm_rrrc"):
            r = d[name]
            base: dict[str, Any] = {"fom": fom, "analysis": name, "comparison": ""} | means
            test = {"F": r.get("F", r.get("X2")), "ddf": r.get("ddf")}
            if "pairwise" not in r:
                rows.append(_pairwise_row(base, r, d["comparison"]) | test)
                continue
            overall = dict.fromkeys(("diff", "se", "df", "ci_low", "ci_high")) | {"p": r["p"]}
            rows.append(_pairwise_row(base, overall, "overall") | test)
            rows += [
                _pairwise_row(base, pr, pr["comparison"]) | {"F": None, "ddf": None}
                for pr in r["pairwise"]
            ]
    return pd.DataFrame(rows)


def _figures(report: Report, out: Path, fmts: tuple[str, ...]) -> dict[str, list[Path]]:
    figs: dict[str, list[Path]] = {}
    if not fmts:
        return figs
    perf = report.performance
    model_pt = None
    if perf is not None and report.options.operating_point in perf.points:
        m = perf.points[report.options.operating_point].metrics
        model_pt = (1 - m["specificity"], m["sensitivity"])
    elif report.per_reader is not None and (report.per_reader["condition"] == "model").any():
        row = report.per_reader[report.per_reader["condition"] == "model"].iloc[0]
        model_pt = (1 - row["specificity"], row["sensitivity"])
    readers = [c for c in report.meta["conditions"] if c != "model"]
    if report.per_reader is None:  # a multi-class primary endpoint: no ROC plane
        return figs
    fig = plots.roc_figure(
        perf.roc if perf else None,
        report.per_reader,
        model_pt,
        auc=perf.auc if perf else None,
        conditions=tuple(readers[:2]) if len(readers) >= 2 else ("unaided", "aided"),
    )
    figs["roc"] = plots.save(fig, out / "roc", fmts)
    fom = "auc" if "auc" in report.mrmc else ("accuracy" if "accuracy" in report.mrmc else None)
    if fom:
        res = report.mrmc[fom]
        label = {"auc": "Difference in AUC", "accuracy": "Difference in accuracy"}[fom]
        per_reader, overall, comparison = _forest_data(res)
        title = f"Per-reader difference ({comparison})"
        fig = plots.forest_figure(per_reader, overall, f"{label} ({comparison}), 95% CI", title)
        figs["forest"] = plots.save(fig, out / "forest", fmts)
    return figs


def _forest_data(res: Any) -> tuple[pd.DataFrame, dict[str, Any], str]:
    """Per-reader differences and the OR-RRRC average of the first comparison (the second
    condition against the reference)."""
    d = res.to_dict(copy_=False)
    if "pairwise" not in d["or_rrrc"]:
        return res.per_reader(), d["or_rrrc"], d["comparison"]
    first = d["or_rrrc"]["pairwise"][0]
    per_reader = res.per_reader()
    return per_reader[per_reader["comparison"] == first["comparison"]], first, first["comparison"]


MRMC_COLUMNS = {
    "fom": "Figure of merit",
    "analysis": "Analysis",
    "comparison": "Comparison",
    "unaided": "Without the model",
    "aided": "With the model",
    "diff": "Difference",
    "se": "SE",
    "df": "df",
    "ci_low": "95% CI low",
    "ci_high": "95% CI high",
    "p": "p",
    "F": "F",
    "ddf": "ddf",
}


def _mrmc_view(report: Report) -> pd.DataFrame:
    table = mrmc_summary(report)
    table["fom"] = table["fom"].map(lambda v: report_text.FOMS.get(v, v))
    table["analysis"] = table["analysis"].map(lambda v: report_text.MRMC_ANALYSES.get(v, v))
    return table.rename(columns=MRMC_COLUMNS)


def _sections(report: Report) -> list[tuple[str, str, pd.DataFrame, list[str]]]:
    """(anchor, heading, table, footnotes) in report order, shared by Markdown and HTML."""
    opt = report.options
    out: list[tuple[str, str, pd.DataFrame, list[str]]] = []
    if report.baseline is not None:
        table1 = baseline_display(report.baseline)
        notes = baseline_notes(report.baseline)
        out.append(("table1", "Table 1 - baseline characteristics", table1, notes))
    if report.table2 is not None:
        out.append(("table2", "Table 2 - model performance", _view(report.table2, MD_TABLE2), []))
    if report.table3 is not None:
        method = (
            f"Linear mixed models of each read's correctness ({opt.lmm_mode} fits, random "
            f"{opt.lmm_random}, backend {opt.backend}); REML, Satterthwaite df, unadjusted "
            "t-based 95% CIs."
        )
        notes = [
            method,
            *report_text.table3_footnotes(report.table3, report.table3_glmm is not None),
        ]
        out.append(
            (
                "table3",
                "Table 3 - readers without and with the model",
                _view(report.table3, MD_TABLE3),
                notes,
            )
        )
    if report.table3_glmm is not None:
        view = _view(report.table3_glmm, MD_TABLE3).rename(
            columns={HEADERS["difference_display"]: "Odds ratio [95% CI]"}
        )
        notes = [
            "Logistic mixed model (lme4::glmer); means are probabilities, contrasts odds ratios."
        ]
        out.append(("table3_glmm", "Table 3 - logistic mixed model", view, notes))
    if report.mrmc:
        out.append(
            (
                "mrmc",
                "MRMC analyses (Obuchowski-Rockette / DBM, Hillis ddf)",
                _mrmc_view(report),
                report_text.mrmc_explanations(report.mrmc),
            )
        )
    if report.pooled is not None:
        out.append(("pooled", "Pooled counts", report.pooled, []))
    if report.per_reader is not None:
        out.append(("per_reader", "Per reader", report.per_reader, []))
    if report.agreement:
        agr = pd.DataFrame([{"condition": k, **v} for k, v in report.agreement.items()])
        out.append(("agreement", "Agreement between readers", agr, []))
    return out


def _markdown(
    report: Report,
    figs: dict[str, list[Path]],
    efigs: dict[str, list[Path]] | None = None,
    eparts: list[Part] | None = None,
) -> str:
    from .render_endpoints import endpoint_parts, parts_markdown

    parts = ["# Reader study report", ""]
    parts += [f"- **{label}:** {value}" for label, value in report_text.header_lines(report.meta)]
    parts += [f"- {note}" for note in report.meta["notes"]]
    for _, heading, table, notes in _sections(report):
        parts += ["", f"## {heading}", "", md_table(table)]
        if notes:
            parts += ["", *[f"{note}" for note in notes]]
    for name, paths in figs.items():
        alt = figure_alt(report, name) or FIGURE_TITLES.get(name, name)
        parts += ["", f"![{alt}]({paths[0].name})"]
    eparts = endpoint_parts(report) if eparts is None else eparts
    parts += parts_markdown(eparts, efigs or {}, md_table)
    if report.skipped:
        parts += ["", "## Not computed", ""]
        parts += [f"- `{k}`: {v}" for k, v in report.skipped.items()]
    return "\n".join(parts) + "\n"


FIGURE_TITLES = {
    "roc": "Model ROC curve and reader operating points",
    "forest": "Per-reader differences (with - without the model)",
}


def _html(
    report: Report,
    figs: dict[str, list[Path]],
    efigs: dict[str, list[Path]] | None = None,
    eparts: list[Part] | None = None,
) -> str:
    from .render_endpoints import endpoint_parts, parts_html

    def tab(df: pd.DataFrame) -> str:
        return df.to_html(index=False, na_rep="NA", float_format=fmt_num, border=0, classes="table")

    esc = html.escape
    title = (report.meta.get("study") or {}).get("title")
    body = [f"<h1>Reader study report{': ' + esc(title) if title else ''}</h1>"]
    rows = "".join(
        f"<tr><th>{esc(label)}</th><td>{esc(value)}</td></tr>"
        for label, value in report_text.header_lines(report.meta)
    )
    body.append(f'<table class="meta">{rows}</table>')
    if report.meta["notes"]:
        body.append("<ul>" + "".join(f"<li>{esc(n)}</li>" for n in report.meta["notes"]) + "</ul>")
    for anchor, heading, table, notes in _sections(report):
        body += [f'<h2 id="{anchor}">{esc(heading)}</h2>', tab(table)]
        body += [f'<p class="note">{esc(note)}</p>' for note in notes]
    for name, paths in figs.items():
        caption = esc(FIGURE_TITLES.get(name) or figure_title(name))
        alt = esc(figure_alt(report, name) or caption)
        png = [p for p in paths if p.suffix == ".png"]
        if png:
            data = base64.b64encode(png[0].read_bytes()).decode()
            body.append(f'<h2>{caption}</h2><img alt="{alt}" src="data:image/png;base64,{data}">')
        else:
            body.append(f'<h2>{caption}</h2><img alt="{alt}" src="{paths[0].name}">')
    eparts = endpoint_parts(report) if eparts is None else eparts
    body += parts_html(eparts, efigs or {}, tab)
    if report.skipped:
        items = "".join(
            f"<li><code>{esc(k)}</code>: {esc(v)}</li>" for k, v in report.skipped.items()
        )
        body.append(f"<h2>Not computed</h2><ul>{items}</ul>")
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:auto;padding:0 1em}"
        ".table{border-collapse:collapse;font-size:13px}"
        ".table td,.table th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left}"
        ".meta th{text-align:left;padding-right:1em;vertical-align:top}.meta{font-size:14px}"
        ".note{font-size:13px;color:#333;max-width:80ch}img{max-width:100%}"
    )
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Reader study "
        f"report{': ' + esc(title) if title else ''}</title><style>{style}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )


def write_report(report: Report, out: Path, formats: tuple[str, ...]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    img_fmts = tuple(f for f in ("png", "svg") if f in formats)
    if "html" in formats and "png" not in img_fmts and "svg" not in img_fmts:
        img_fmts = ("png",)
    figs = _figures(report, out, img_fmts) if img_fmts else {}
    if img_fmts and report.calibration:
        figs.update(calibration_figures(report.calibration, out, img_fmts))
    from .render_endpoints import endpoint_csv_tables, endpoint_figures, endpoint_parts

    efigs = endpoint_figures(report, out, img_fmts) if img_fmts else {}
    eparts = endpoint_parts(report) if {"md", "html"} & set(formats) else []
    for paths in (*figs.values(), *efigs.values()):
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
        tables.update(endpoint_csv_tables(report))
        for name, df in tables.items():
            if df is not None:
                p = out / f"{name}.csv"
                df.to_csv(p, index=False)
                written.append(p)
    if "md" in formats:
        p = out / "report.md"
        p.write_text(_markdown(report, figs, efigs, eparts))
        written.append(p)
    if "html" in formats:
        p = out / "report.html"
        p.write_text(_html(report, figs, efigs, eparts))
        written.append(p)
    return written
