"""Read paths of truth panels. An annotator's reads never carry another annotator's labels."""

from collections import Counter

from django.db.models import Count

from readerstudy.analysis.panel_agreement import panel_agreement
from readerstudy.cases.models import HematomaMask

from . import labels as L
from .models import (
    Annotation,
    CaseMaskWrite,
    ConsensusMask,
    Panel,
    PanelAnnotator,
    PanelCase,
    PanelItem,
    PanelTruth,
    PanelVote,
)


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


def vote_of(panel: Panel) -> PanelVote | None:
    """The panel's vote job (queued, running, failed or done), or None before it is queued."""
    return PanelVote.objects.filter(panel=panel).first()


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
                "slice": _slice_position(item.key),
                "votes": [(alias, L.shown(v)) for alias, v in sorted(item.votes.items())],
                "choices": choices_for(panel, item.key),
                "value": item.value,
                "chosen": L.shown(item.value) if item.decided else "",
                "decided": item.decided,
            }
        )
    return rows


def _slice_position(key: str) -> int | None:
    parsed = L.parse_slice_key(key)
    return None if parsed is None else parsed[0]


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
    slice_items = [i for i in items if i.key.startswith(L.SLICE_PREFIX)]
    if L.SLICE_LABELS in panel.labels:
        agreement.extend(_slice_agreement(panel, slice_items, aliases))
    by_case: dict[str, dict] = {}
    for i in items:
        if i.key.startswith(L.SLICE_PREFIX):
            continue
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
    slices = [
        {
            "case": i.panel_case.case.code,
            "key": i.key,
            "name": L.item_name(i.key),
            "votes": [L.shown(i.votes[a]) for a in aliases],
            "value": L.shown(i.value),
            "method": i.method,
        }
        for i in slice_items
    ]
    masks = _mask_rows(panel) if L.HEMATOMA_MASK in panel.labels else []
    return {
        "masks": masks,
        "mask_dice": _mean_dice(masks),
        "has_masks": L.HEMATOMA_MASK in panel.labels,
        "slices": slices,
        "has_slice_labels": L.SLICE_LABELS in panel.labels,
        "aliases": aliases,
        "keys": keys,
        "names": [L.item_name(k) for k in keys],
        "agreement": agreement,
        "rows": rows,
        "n_items": len(items),
        "n_adjudicated": n_adjudicated,
    }


def _slice_agreement(panel: Panel, items: list[PanelItem], aliases: list[str]) -> list[dict]:
    """Fleiss' kappa and percent agreement per slice label over every slice of every case: a
    slice nobody marked counts as a unanimous no."""
    votes = {(i.panel_case_id, i.key): i.votes for i in items}
    no = dict.fromkeys(aliases, False)
    cases = panel.panel_cases.select_related("case__primary_series")
    out = []
    for label in L.slice_label_values(panel.labels):
        ratings = [
            [votes.get((pc.pk, L.slice_key(p, label)), no)[a] for a in aliases]
            for pc in cases
            for p in range(pc.case.primary_series.num_slices if pc.case.primary_series else 0)
        ]
        stats = panel_agreement(ratings)
        stats["n_slices"] = stats.pop("n_cases")
        key = f"{L.SLICE_LABELS}:{label}"
        out.append({"key": key, "name": f"Slices · {label.upper()}", "n_cases": None, **stats})
    return out


def _mask_rows(panel: Panel) -> list[dict]:
    """Per case: each annotator's voxels, the consensus and the Dice between them."""
    rows = []
    consensus = ConsensusMask.objects.filter(panel_case__panel=panel).select_related(
        "panel_case__case"
    )
    for c in consensus.order_by("panel_case__case__code"):
        rows.append(
            {
                "case": c.panel_case.case.code,
                "voxels": c.annotator_voxels,
                "consensus_voxels": c.voxels,
                "volume_ml": c.volume_ml,
                "pairs": c.dice["pairs"],
                "to_consensus": c.dice["to_consensus"],
                "method": c.method,
            }
        )
    return rows


def _mean_dice(rows: list[dict]) -> dict[str, float | None]:
    """Mean Dice per annotator pair over the cases where it is defined (not both empty)."""
    pairs = {pair for row in rows for pair in row["pairs"]}
    out: dict[str, float | None] = {}
    for pair in sorted(pairs):
        values = [row["pairs"][pair] for row in rows if row["pairs"].get(pair) is not None]
        out[pair] = sum(values) / len(values) if values else None
    return out


def mask_csv_rows(panel: Panel) -> list[list[str]]:
    """Per case and annotator pair (and annotator vs consensus): the Dice coefficient."""
    out = [["case", "comparison", "dice", "consensus_voxels", "consensus_volume_ml"]]
    for row in report(panel)["masks"]:
        comparisons = [*row["pairs"].items()]
        comparisons += [(f"{a}-consensus", d) for a, d in row["to_consensus"].items()]
        for name, value in comparisons:
            out.append([row["case"], name, _num(value), str(row["consensus_voxels"]),
                        _num(float(row["volume_ml"]))])  # fmt: skip
    return out


def report_csv_rows(panel: Panel) -> list[list[str]]:
    """The report's per-case table as CSV rows: case, label, A1..An, decided value, method
    (slice items as ``slice:<position>:<label>``)."""
    data = report(panel)
    header = ["case", "label", *data["aliases"], "value", "method"]
    out = [header]
    for row in data["rows"]:
        for cell in row["cells"]:
            out.append([row["case"], cell["key"], *cell["votes"], cell["value"], cell["method"]])
    for cell in data["slices"]:
        out.append([cell["case"], cell["key"], *cell["votes"], cell["value"], cell["method"]])
    return out


def agreement_csv_rows(panel: Panel) -> list[list[str]]:
    header = ["label", "n_cases", "n_slices", "n_raters", "fleiss_kappa", "percent_agreement",
              "unanimous"]  # fmt: skip
    out = [header]
    for a in report(panel)["agreement"]:
        out.append([a["key"], *(_num(a.get(c)) for c in header[1:])])
    return out


def _num(value) -> str:
    if value is None:
        return ""
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def mask_choices(panels, case_ids: list[int]) -> list[dict]:
    """For each finished panel that drew hematoma masks: how many of ``case_ids`` already have
    a truth mask its consensus would replace (or, for an empty consensus, remove)."""
    masks = dict(HematomaMask.objects.filter(case_id__in=case_ids).values_list("case_id", "file"))
    rows = []
    for panel in panels:
        if L.HEMATOMA_MASK not in panel.labels:
            continue
        truths = PanelTruth.objects.filter(panel=panel, case_id__in=case_ids)
        consensus = dict(truths.values_list("case_id", "mask_file"))
        conflicts = sum(1 for c, f in consensus.items() if c in masks and masks[c] != f)
        rows.append({"panel": panel, "cases": len(consensus), "conflicts": conflicts})
    return rows


def latest_mask_writes(study_id: int) -> dict | None:
    """The outcome of the last truth-source choice of a study for its cases' truth masks:
    ``{"panel", "at", "by", "replace", "counts": {outcome label: n}, "rows"}``, or None."""
    last = CaseMaskWrite.objects.filter(study_id=study_id).select_related("panel").first()
    if last is None:
        return None
    rows = list(
        CaseMaskWrite.objects.filter(study_id=study_id, at=last.at, panel=last.panel)
        .select_related("case", "decided_by")
        .order_by("case__code")
    )
    labels = dict(CaseMaskWrite.Outcome.choices)
    counts = Counter(w.outcome for w in rows)
    return {
        "panel": last.panel,
        "at": last.at,
        "by": rows[0].decided_by.username if rows and rows[0].decided_by else "",
        "replace": last.replace_chosen,
        "counts": [(o, labels[o], counts[o]) for o in labels if counts[o]],
        "rows": rows,
    }


def mask_provenance(case) -> CaseMaskWrite | None:
    """The record of the panel that wrote the case's current truth mask, or None (imported)."""
    mask = HematomaMask.objects.filter(case=case).first()
    if mask is None:
        return None
    return (
        CaseMaskWrite.objects.filter(
            case=case,
            file=mask.file,
            outcome__in=[CaseMaskWrite.Outcome.WRITTEN, CaseMaskWrite.Outcome.REPLACED],
        )
        .select_related("panel")
        .first()
    )


def case_mask_writes(case, limit: int = 10) -> list[CaseMaskWrite]:
    """The latest records of panels' consensus masks meeting the case's truth mask, newest
    first (at most ``limit``)."""
    return list(
        CaseMaskWrite.objects.filter(case=case).select_related("panel", "decided_by")[:limit]
    )
