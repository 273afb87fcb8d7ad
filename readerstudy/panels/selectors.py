"""Read paths of truth panels. An annotator's reads never carry another annotator's labels."""

from django.db.models import Count

from readerstudy.analysis.panel_agreement import panel_agreement

from . import labels as L
from .models import Annotation, Panel, PanelAnnotator, PanelCase, PanelItem


def panels_for_coordinator():
    return Panel.objects.annotate(
        n_cases=Count("panel_cases", distinct=True),
        n_annotators=Count("annotators", distinct=True),
    ).select_related("adjudicator")


def panels_for_annotator(user):
    return Panel.objects.filter(annotators__user=user).order_by("-created_at")


def panels_for_adjudicator(user):
    return Panel.objects.filter(adjudicator=user).order_by("-created_at")


def finished_panels():
    return Panel.objects.filter(status=Panel.Status.FINISHED).order_by("-finished_at")


def seat_of(user, panel_id: int) -> PanelAnnotator | None:
    return (
        PanelAnnotator.objects.filter(panel_id=panel_id, user=user).select_related("panel").first()
    )


def annotator_cases(seat: PanelAnnotator) -> list[dict]:
    """The panel's cases with the caller's own labels (only theirs) and whether they are done."""
    own = {a.panel_case_id: a.values for a in Annotation.objects.filter(annotator=seat)}
    return [
        {"code": pc.case.code, "values": own.get(pc.pk), "done": pc.pk in own}
        for pc in seat.panel.panel_cases.select_related("case")
    ]


def own_annotation(seat: PanelAnnotator, case_code: str) -> dict | None:
    annotation = Annotation.objects.filter(annotator=seat, panel_case__case__code=case_code).first()
    return annotation.values if annotation else None


def panel_case(panel: Panel, case_code: str) -> PanelCase | None:
    return (
        panel.panel_cases.filter(case__code=case_code)
        .select_related("case__primary_series")
        .first()
    )


def progress(panel: Panel) -> list[dict]:
    """Per annotator (by alias and name, for coordinators): cases labelled of all."""
    n_cases = panel.panel_cases.count()
    seats = panel.annotators.select_related("user").annotate(done=Count("annotations"))
    return [
        {"alias": s.alias, "username": s.user.username, "done": s.done, "total": n_cases}
        for s in seats
    ]


def items_to_adjudicate(panel: Panel) -> list[dict]:
    """The adjudicator's work: each flagged item with the anonymised votes (A1..An)."""
    items = PanelItem.objects.filter(panel_case__panel=panel, needs_adjudication=True)
    rows = []
    for item in items.select_related("panel_case__case").order_by("panel_case__case__code", "id"):
        rows.append(
            {
                "case": item.panel_case.case.code,
                "key": item.key,
                "name": L.item_name(item.key),
                "votes": [(alias, L.shown(v)) for alias, v in sorted(item.votes.items())],
                "choices": choices_for(panel, item.key),
                "value": item.value,
                "chosen": L.shown(item.value) if item.decided else "",
                "decided": item.decided,
            }
        )
    return rows


def choices_for(panel: Panel, key: str) -> list[tuple[str, str]]:
    if key == L.ETIOLOGY:
        return [(v, v) for v in panel.etiology_values]
    if key == L.LOCATION:
        return [(v, v) for v in (*L.LOCATION_VALUES, L.NO_LOCATION)]
    return [("yes", "yes"), ("no", "no")]


def undecided_count(panel: Panel) -> int:
    return PanelItem.objects.filter(panel_case__panel=panel, method="").count()


def report(panel: Panel) -> dict:
    """Agreement per label (Fleiss' kappa, percent agreement) and the per-case table."""
    keys = L.item_keys(panel.labels)
    items = list(
        PanelItem.objects.filter(panel_case__panel=panel)
        .select_related("panel_case__case")
        .order_by("panel_case__case__code", "id")
    )
    aliases = [s.alias for s in panel.annotators.all()]
    agreement = []
    for key in keys:
        ratings = [[i.votes[a] for a in aliases] for i in items if i.key == key]
        stats = panel_agreement(ratings)
        agreement.append({"key": key, "name": L.item_name(key), **stats})
    by_case: dict[str, dict] = {}
    for i in items:
        row = by_case.setdefault(i.panel_case.case.code, {"case": i.panel_case.case.code})
        row[i.key] = i
    rows = [
        {
            "case": code,
            "cells": [
                {
                    "key": k,
                    "votes": [L.shown(row[k].votes[a]) for a in aliases],
                    "value": L.shown(row[k].value),
                    "method": row[k].method,
                }
                for k in keys
                if k in row
            ],
        }
        for code, row in by_case.items()
    ]
    n_adjudicated = sum(1 for i in items if i.method == PanelItem.Method.ADJUDICATION)
    return {
        "aliases": aliases,
        "keys": keys,
        "names": [L.item_name(k) for k in keys],
        "agreement": agreement,
        "rows": rows,
        "n_items": len(items),
        "n_adjudicated": n_adjudicated,
    }


def report_csv_rows(panel: Panel) -> list[list[str]]:
    """The report's per-case table as CSV rows: case, label, A1..An, decided value, method."""
    data = report(panel)
    header = ["case", "label", *data["aliases"], "value", "method"]
    out = [header]
    for row in data["rows"]:
        for cell in row["cells"]:
            out.append([row["case"], cell["key"], *cell["votes"], cell["value"], cell["method"]])
    return out


def agreement_csv_rows(panel: Panel) -> list[list[str]]:
    header = ["label", "n_cases", "n_raters", "fleiss_kappa", "percent_agreement", "unanimous"]
    out = [header]
    for a in report(panel)["agreement"]:
        out.append([a["key"], *(_num(a[c]) for c in header[1:])])
    return out


def _num(value) -> str:
    if value is None:
        return ""
    return f"{value:.4f}" if isinstance(value, float) else str(value)
