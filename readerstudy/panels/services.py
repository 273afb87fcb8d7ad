"""Writes of truth panels: create, annotate, adjudicate, finalize (each in one transaction and
each in the audit trail)."""

from django.db import transaction
from django.utils import timezone

from readerstudy import audit
from readerstudy.cases.models import Case
from readerstudy.cases.provenance import Method, entry

from . import labels as L
from .errors import PanelConflict, PanelError, PanelNotAvailable
from .models import Annotation, Panel, PanelAnnotator, PanelCase, PanelItem, PanelTruth, Rule
from .validation import check_annotation, check_decision, check_etiology_values, check_kinds
from .voting import tally


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
    last annotation of the panel starts the vote."""
    with transaction.atomic():
        seat = _seat(panel_id, user)
        panel = Panel.objects.select_for_update().get(pk=panel_id)
        if panel.status != Panel.Status.ANNOTATING:
            raise PanelConflict("panel_closed", "the panel's annotation is over")
        panel_case = PanelCase.objects.filter(panel=panel, case__code=case_code).first()
        if panel_case is None:
            raise PanelNotAvailable("not_found", "no such case in this panel")
        checked = check_annotation(values, panel.labels, panel.etiology_values)
        annotation, _ = Annotation.objects.update_or_create(
            panel_case=panel_case, annotator=seat, defaults={"values": checked}
        )
        audit.record(user, "panel.annotate", annotation, panel=panel.pk, case=case_code)
        expected = panel.panel_cases.count() * panel.annotators.count()
        if Annotation.objects.filter(panel_case__panel=panel).count() == expected:
            _start_vote(panel)
    return annotation


def _start_vote(panel: Panel) -> None:
    keys = L.item_keys(panel.labels)
    items = []
    for panel_case in panel.panel_cases.prefetch_related("annotations__annotator"):
        per_alias = {
            a.annotator.alias: L.item_values(a.values, panel.labels)
            for a in sorted(panel_case.annotations.all(), key=lambda a: a.annotator.position)
        }
        for key in keys:
            votes = {alias: values[key] for alias, values in per_alias.items()}
            result = tally(list(votes.values()), panel.rule)
            decided = not result.needs_adjudication
            items.append(
                PanelItem(
                    panel_case=panel_case,
                    key=key,
                    votes=votes,
                    majority=result.majority,
                    needs_adjudication=result.needs_adjudication,
                    value=result.majority if decided else None,
                    method=PanelItem.Method.VOTE if decided else "",
                )
            )
    PanelItem.objects.bulk_create(items)
    panel.status = Panel.Status.ADJUDICATING
    panel.save(update_fields=["status"])


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
            for pc in panel.panel_cases.select_related("case").prefetch_related("items__decided_by")
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
        if kind == L.SUBTYPES:
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
