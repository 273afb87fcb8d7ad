"""Writes of truth panels: create, annotate, adjudicate, finalize (each in one transaction and
each in the audit trail). The vote between annotating and adjudicating runs on a worker
(``panels.runner``); it is queued here."""

from django.db import transaction
from django.utils import timezone

from readerstudy import audit
from readerstudy.cases.models import Case, Instance
from readerstudy.cases.provenance import Method, entry

from . import labels as L
from . import masks
from .errors import PanelConflict, PanelError, PanelNotAvailable
from .models import (
    Annotation,
    ConsensusMask,
    Panel,
    PanelAnnotator,
    PanelCase,
    PanelItem,
    PanelMask,
    PanelTruth,
    PanelVote,
    Rule,
)
from .tasks import run_panel_vote
from .validation import check_annotation, check_decision, check_etiology_values, check_kinds


def create_panel(
    *,
    title: str,
    cases: list[Case],
    annotators: list,
    adjudicator,
    labels: list[str],
    rule: str = Rule.MAJORITY,
    etiology_values: list[str] | None = None,
    description: str = "",
    created_by=None,
) -> Panel:
    if not title.strip():
        raise PanelError("title_required", "a panel needs a title")
    kinds = check_kinds(labels)
    if rule not in Rule.values:
        raise PanelError("unknown_rule", f"rule must be one of {', '.join(Rule.values)}")
    values = check_etiology_values(etiology_values or list(L.DEFAULT_ETIOLOGY_VALUES))
    if not cases:
        raise PanelError("cases_required", "a panel needs at least one case")
    if len({u.pk for u in annotators}) != len(annotators) or len(annotators) < 2:
        raise PanelError("annotators_required", "a panel needs at least two different annotators")
    not_annotators = [u.username for u in annotators if not u.is_annotator]
    if not_annotators:
        raise PanelError(
            "not_an_annotator", f"not annotators (role): {', '.join(sorted(not_annotators))}"
        )
    if adjudicator is None or not adjudicator.is_adjudicator:
        raise PanelError("not_an_adjudicator", "the adjudicator must have the adjudicator role")
    with transaction.atomic():
        panel = Panel.objects.create(
            title=title.strip(),
            description=description,
            rule=rule,
            labels=kinds,
            etiology_values=values if L.ETIOLOGY in kinds else [],
            adjudicator=adjudicator,
            created_by=created_by,
        )
        PanelCase.objects.bulk_create(PanelCase(panel=panel, case=c) for c in cases)
        PanelAnnotator.objects.bulk_create(
            PanelAnnotator(panel=panel, user=u, position=i) for i, u in enumerate(annotators, 1)
        )
        audit.record(
            created_by,
            "panel.create",
            panel,
            cases=len(cases),
            annotators=[u.username for u in annotators],
            adjudicator=adjudicator.username,
            labels=kinds,
            rule=rule,
        )
    return panel


def _seat(panel_id: int, user) -> PanelAnnotator:
    seat = PanelAnnotator.objects.filter(panel_id=panel_id, user=user).first()
    if seat is None:
        raise PanelNotAvailable("not_found", "no such panel")
    return seat


def annotate(user, panel_id: int, case_code: str, values: object) -> Annotation:
    """Store (or replace) the caller's labels of one case while the panel is annotating; the
    last annotation of the panel queues the vote (a worker runs it: ``panels.runner``)."""
    with transaction.atomic():
        seat = _seat(panel_id, user)
        panel = Panel.objects.select_for_update().get(pk=panel_id)
        if panel.status != Panel.Status.ANNOTATING:
            raise PanelConflict("panel_closed", "the panel's annotation is over")
        panel_case = PanelCase.objects.filter(panel=panel, case__code=case_code).first()
        if panel_case is None:
            raise PanelNotAvailable("not_found", "no such case in this panel")
        positions = _slice_positions(panel_case.case) if L.SLICE_LABELS in panel.labels else None
        checked = check_annotation(values, panel.labels, panel.etiology_values, positions)
        if L.HEMATOMA_MASK in panel.labels:
            assert isinstance(values, dict)  # check_annotation refuses anything else
            checked[L.HEMATOMA_MASK] = _checked_mask(
                seat, panel_case, values.get(L.HEMATOMA_MASK), checked.get(L.ICH_PRESENT)
            )
        annotation, _ = Annotation.objects.update_or_create(
            panel_case=panel_case, annotator=seat, defaults={"values": checked}
        )
        audit.record(user, "panel.annotate", annotation, panel=panel.pk, case=case_code)
        expected = panel.panel_cases.count() * panel.annotators.count()
        if Annotation.objects.filter(panel_case__panel=panel).count() == expected:
            _queue_vote(panel)
    return annotation


def _checked_mask(
    seat: PanelAnnotator, panel_case: PanelCase, value: object, present: object
) -> dict | None:
    """The annotation's mask: one the annotator uploaded of this case (``{"sha256"}`` names
    it), or None (nothing drawn). Required when they say ICH is present, refused when not."""
    if value in (None, {}):
        if present is True:
            raise PanelError("bad_annotation", "draw the hematoma mask (ICH is present)")
        return None
    if not isinstance(value, dict) or not isinstance(value.get("sha256"), str):
        raise PanelError("bad_annotation", "hematoma_mask names an uploaded mask by its sha256")
    if present is False:
        raise PanelError("bad_annotation", "a hematoma mask is drawn only when ICH is present")
    mask = PanelMask.objects.filter(
        annotator=seat, panel_case=panel_case, sha256=value["sha256"]
    ).first()
    if mask is None:
        raise PanelError("bad_annotation", "no mask of yours of this case has that sha256")
    return {"file": mask.file, "sha256": mask.sha256, "voxels": mask.voxels}


def upload_mask(
    user, panel_id: int, case_code: str, body: bytes, content_type: str, shape: str | None
) -> PanelMask:
    """Keep a mask the caller drew of a case while the panel is annotating (not yet their
    annotation: that names the mask it submits)."""
    seat = _seat(panel_id, user)
    panel = seat.panel
    if L.HEMATOMA_MASK not in panel.labels:
        raise PanelError("no_masks", "this panel does not draw hematoma masks")
    if panel.status != Panel.Status.ANNOTATING:
        raise PanelConflict("panel_closed", "the panel's annotation is over")
    panel_case = (
        PanelCase.objects.filter(panel=panel, case__code=case_code)
        .select_related("case__primary_series")
        .first()
    )
    if panel_case is None:
        raise PanelNotAvailable("not_found", "no such case in this panel")
    with transaction.atomic():
        return masks.record_upload(seat, panel_case, body, content_type, shape)


def _slice_positions(case: Case) -> dict[str, int]:
    """De-identified SOP Instance UID -> 0-based position of the case's primary series."""
    if case.primary_series_id is None:
        return {}
    rows = Instance.objects.filter(series_id=case.primary_series_id)
    return dict(rows.values_list("sop_instance_uid", "position"))


def _queue_vote(panel: Panel) -> PanelVote:
    """Every annotator is done: the panel is ``voting`` and its vote is queued for a worker
    (on commit). A vote that ran before (the panel was voting) is queued again."""
    panel.status = Panel.Status.VOTING
    panel.save(update_fields=["status"])
    vote, created = PanelVote.objects.get_or_create(panel=panel)
    if not created and not vote.requeue():
        return vote  # queued or running already
    _schedule_vote(vote)
    return vote


def _schedule_vote(vote: PanelVote) -> None:
    transaction.on_commit(lambda: run_panel_vote.delay(vote_id=str(vote.pk)))


def rerun_vote(user, panel_id: int) -> PanelVote:
    """Queue a failed vote again (the panel is still ``voting``)."""
    with transaction.atomic():
        panel = Panel.objects.select_for_update().filter(pk=panel_id).first()
        if panel is None:
            raise PanelNotAvailable("not_found", "no such panel")
        vote = PanelVote.objects.filter(panel=panel).first()
        if panel.status != Panel.Status.VOTING or vote is None:
            raise PanelConflict("not_voting", "the panel has no vote to run again")
        if not vote.requeue():
            raise PanelConflict("vote_not_failed", f"the vote is {vote.status}: wait for it")
        _schedule_vote(vote)
        audit.record(user, "panel.vote.rerun", panel, attempts=vote.attempts)
    return vote


def adjudicate(user, panel_id: int, case_code: str, key: str, value: object) -> PanelItem:
    with transaction.atomic():
        panel = Panel.objects.select_for_update().filter(pk=panel_id, adjudicator=user).first()
        if panel is None:
            raise PanelNotAvailable("not_found", "no such panel")
        if panel.status != Panel.Status.ADJUDICATING:
            raise PanelConflict("not_adjudicating", "the panel has nothing to adjudicate now")
        item = PanelItem.objects.filter(
            panel_case__panel=panel, panel_case__case__code=case_code, key=key,
            needs_adjudication=True,
        ).first()  # fmt: skip
        if item is None:
            raise PanelError("no_such_item", f"{case_code} has no {key!r} item to adjudicate")
        item.value = check_decision(key, value, panel.etiology_values)
        item.method = PanelItem.Method.ADJUDICATION
        item.decided_by = user
        item.decided_at = timezone.now()
        item.save(update_fields=["value", "method", "decided_by", "decided_at"])
        audit.record(
            user, "panel.adjudicate", item, panel=panel.pk, case=case_code, item=key,
            value=item.value, votes=item.votes,
        )  # fmt: skip
    return item


def finalize(user, panel_id: int) -> Panel:
    """Store every case's truth from the decided items; refused while any item is undecided."""
    with transaction.atomic():
        panel = Panel.objects.select_for_update().filter(pk=panel_id).first()
        if panel is None:
            raise PanelNotAvailable("not_found", "no such panel")
        if panel.status != Panel.Status.ADJUDICATING:
            raise PanelConflict(
                "not_ready", "a panel is finalized once every annotator is done (and only once)"
            )
        undecided = PanelItem.objects.filter(panel_case__panel=panel, method="")
        if undecided.exists():
            codes = sorted(set(undecided.values_list("panel_case__case__code", flat=True)))
            raise PanelConflict(
                "undecided_items",
                f"{undecided.count()} item(s) still wait for the adjudicator "
                f"(cases {', '.join(codes)})",
            )
        now = timezone.now()
        annotators = [seat.user.username for seat in panel.annotators.select_related("user")]
        truths = [
            _truth(panel, pc, annotators, now)
            for pc in panel.panel_cases.select_related("case__primary_series").prefetch_related(
                "items__decided_by"
            )
        ]
        PanelTruth.objects.bulk_create(truths)
        panel.status = Panel.Status.FINISHED
        panel.finished_at = now
        panel.save(update_fields=["status", "finished_at"])
        audit.record(user, "panel.finalize", panel, cases=len(truths))
    return panel


def _truth(panel: Panel, panel_case: PanelCase, annotators: list[str], now) -> PanelTruth:
    items = {item.key: item for item in panel_case.items.all()}
    source = f"panel {panel.pk}: {panel.title}"

    def provenance(group: list[PanelItem]) -> dict:
        adjudicated = [i for i in group if i.method == PanelItem.Method.ADJUDICATION]
        if adjudicated:
            return entry(
                Method.ADJUDICATION, source=source, annotators=annotators, at=now,
                adjudicator=adjudicated[0].decided_by.username if adjudicated[0].decided_by else "",
            )  # fmt: skip
        return entry(Method.VOTE, source=source, annotators=annotators, at=now)

    truth = PanelTruth(panel=panel, case=panel_case.case, provenance={})
    for kind in panel.labels:
        if kind == L.HEMATOMA_MASK:
            consensus = ConsensusMask.objects.filter(panel_case=panel_case).first()
            if consensus is not None and consensus.voxels:
                truth.mask_file, truth.mask_sha256 = consensus.file, consensus.sha256
                truth.mask_voxels, truth.mask_volume_ml = consensus.voxels, consensus.volume_ml
            truth.provenance[kind] = {
                **entry(Method.VOTE, source=source, annotators=annotators, at=now),
                "consensus": masks.METHOD_TEXT,
            }
            continue
        if kind == L.SLICE_LABELS:
            group = [i for k, i in items.items() if k.startswith(L.SLICE_PREFIX)]
            truth.slice_labels = _slice_truth(panel, panel_case.case, group)
        elif kind == L.SUBTYPES:
            group = [i for k, i in items.items() if k.startswith(L.SUBTYPE_PREFIX)]
            truth.subtypes = [
                k[len(L.SUBTYPE_PREFIX) :] for k, i in items.items()
                if k.startswith(L.SUBTYPE_PREFIX) and i.value is True
            ]  # fmt: skip
        else:
            group = [items[kind]]
            value = items[kind].value
            if kind == L.LOCATION:
                truth.location = "" if value == L.NO_LOCATION else str(value)
            elif kind == L.ICH_PRESENT:
                truth.ich_present = bool(value)
            else:
                truth.etiology = str(value)
        truth.provenance[kind] = provenance(group)
    return truth


def _slice_truth(panel: Panel, case: Case, items: list[PanelItem]) -> dict:
    """The decided slice items in the layout of the cases' slice truth (see
    ``cases.slice_labels``): ``{"labels", "slices": {position: [positive labels]}}`` with every
    slice of the series present, an empty list meaning negative."""
    labels = list(L.slice_label_values(panel.labels))
    n_slices = case.primary_series.num_slices if case.primary_series else 0
    slices: dict[str, list[str]] = {str(p): [] for p in range(n_slices)}
    for item in items:
        parsed = L.parse_slice_key(item.key)
        if parsed is not None and item.value is True:
            slices.setdefault(str(parsed[0]), []).append(parsed[1])
    for values in slices.values():
        values.sort(key=labels.index)
    return {"labels": labels, "slices": slices}
