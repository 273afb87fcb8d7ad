"""The panel vote, worker side: every case's vote items and consensus mask, stored at once.

Phases: ``items`` (the label votes), ``masks`` (``done`` of ``total`` cases whose masks are
voted, panels that draw hematoma masks only), ``storing``. Nothing is stored before the last
step: the items, the consensus masks, the panel's move to ``adjudicating`` and the vote's
success are one transaction, so a vote delivered twice, or run again after a failure, stores
its results once. The consensus files are content-addressed (the same masks give the same
file).
"""

from django.db import transaction

from readerstudy import audit

from . import labels as L
from . import masks
from .models import Annotation, ConsensusMask, Panel, PanelCase, PanelItem, PanelVote
from .voting import tally


def execute_vote(*, vote_id: str) -> str:
    """Run a panel's vote once, however many times its message is delivered."""
    vote = PanelVote.claim(vote_id, related=("panel",))
    if vote is None:
        return "already-done"
    try:
        return _run(vote)
    except Exception as exc:
        vote.fail_from(exc)
        audit.record(None, "panel.vote.fail", vote.panel, error=vote.error)
        raise


def _run(vote: PanelVote) -> str:
    panel = vote.panel
    panel_cases = list(
        panel.panel_cases.select_related("case__primary_series").prefetch_related(
            "annotations__annotator"
        )
    )
    vote.progress(PanelVote.Phase.ITEMS, done=0, total=len(panel_cases))
    annotations = {
        pc.pk: sorted(pc.annotations.all(), key=lambda a: a.annotator.position)
        for pc in panel_cases
    }
    items = [item for pc in panel_cases for item in case_items(panel, pc, annotations[pc.pk])]
    consensus: list[ConsensusMask] = []
    if L.HEMATOMA_MASK in panel.labels:
        for index, pc in enumerate(panel_cases):
            vote.progress(PanelVote.Phase.MASKS, done=index, total=len(panel_cases))
            consensus.append(masks.build_consensus(pc, annotations[pc.pk]))
    vote.progress(PanelVote.Phase.STORING, done=0, total=0)
    open_items = sum(item.needs_adjudication for item in items)
    with transaction.atomic():
        locked = Panel.objects.select_for_update().get(pk=panel.pk)
        if locked.status != Panel.Status.VOTING:  # stored by a delivery before this one
            vote.succeed(items=len(items), to_adjudicate=open_items, phase="")
            return "already-done"
        PanelItem.objects.filter(panel_case__panel=panel).delete()
        ConsensusMask.objects.filter(panel_case__panel=panel).delete()
        PanelItem.objects.bulk_create(items)
        ConsensusMask.objects.bulk_create(consensus)
        locked.status = Panel.Status.ADJUDICATING
        locked.save(update_fields=["status"])
        vote.succeed(items=len(items), to_adjudicate=open_items, phase="")
        audit.record(None, "panel.vote", locked, items=len(items), to_adjudicate=open_items)
    return "done"


def case_items(panel: Panel, panel_case: PanelCase, annotations: list[Annotation]) -> list:
    """The vote items of one case (annotations in annotator order), not yet saved."""
    per_alias = {a.annotator.alias: L.item_values(a.values, panel.labels) for a in annotations}
    items = [
        _item(panel, panel_case, key, {alias: values[key] for alias, values in per_alias.items()})
        for key in L.item_keys(panel.labels)
    ]
    if L.SLICE_LABELS in panel.labels:
        items.extend(_slice_items(panel, panel_case, annotations))
    return items


def _item(panel: Panel, panel_case: PanelCase, key: str, votes: dict) -> PanelItem:
    result = tally(list(votes.values()), panel.rule)
    decided = not result.needs_adjudication
    return PanelItem(
        panel_case=panel_case,
        key=key,
        votes=votes,
        majority=result.majority,
        needs_adjudication=result.needs_adjudication,
        value=result.majority if decided else None,
        method=PanelItem.Method.VOTE if decided else "",
    )


def _slice_items(panel: Panel, panel_case: PanelCase, annotations: list[Annotation]) -> list:
    """One yes/no item per (slice, label) that at least one annotator marked."""
    marked = {
        a.annotator.alias: {(m["position"], m["label"]) for m in a.values.get(L.SLICE_LABELS, [])}
        for a in annotations
    }
    order = L.slice_label_values(panel.labels)
    pairs = sorted(set().union(*marked.values()), key=lambda p: (p[0], order.index(p[1])))
    return [
        _item(panel, panel_case, L.slice_key(*pair), {a: pair in m for a, m in marked.items()})
        for pair in pairs
    ]
