"""Panel pages: coordinators create, follow, finalize and report; annotators label their cases
(blind to each other); the adjudicator decides the items the vote leaves open."""

import csv
import gzip
import json

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from readerstudy.accounts.decorators import coordinator_required, role_required
from readerstudy.core.errors import DomainError

from . import labels as L
from . import masks, selectors, services
from .errors import PanelError
from .forms import AnnotationForm, PanelForm, decision_value
from .models import Panel

annotator_required = role_required("annotators", lambda u: u.is_annotator)
adjudicator_required = role_required("adjudicators", lambda u: u.is_adjudicator)
panel_member_required = role_required(
    "annotators and adjudicators", lambda u: u.is_annotator or u.is_adjudicator
)


@coordinator_required
def panel_list(request):
    return render(request, "panels/panel_list.html", {"panels": selectors.panels_for_coordinator()})


@coordinator_required
def panel_new(request):
    form = PanelForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                panel = services.create_panel(
                    title=data["title"],
                    description=data["description"],
                    cases=list(data["cases"]),
                    annotators=list(data["annotators"]),
                    adjudicator=data["adjudicator"],
                    labels=data["labels"],
                    rule=data["rule"],
                    etiology_values=data["etiology_values"] or None,
                    created_by=request.user,
                )
            except PanelError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"Panel “{panel.title}” created.")
                return redirect("panel-detail", pk=panel.pk)
        status = 400
    return render(request, "panels/panel_new.html", {"form": form}, status=status)


@coordinator_required
def panel_detail(request, pk: int):
    panel = get_object_or_404(Panel.objects.select_related("adjudicator"), pk=pk)
    context = {
        "panel": panel,
        "progress": selectors.progress(panel),
        "undecided": selectors.undecided_count(panel),
        "cases": panel.panel_cases.select_related("case"),
        "studies": panel.studies.all(),
        "vote": selectors.vote_of(panel),
    }
    return render(request, "panels/panel_detail.html", context)


@coordinator_required
@require_POST
def panel_vote_rerun(request, pk: int):
    panel = get_object_or_404(Panel, pk=pk)
    try:
        services.rerun_vote(request.user, panel.pk)
    except PanelError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The vote is queued again.")
    return redirect("panel-detail", pk=panel.pk)


@coordinator_required
@require_POST
def panel_finalize(request, pk: int):
    panel = get_object_or_404(Panel, pk=pk)
    try:
        services.finalize(request.user, panel.pk)
    except PanelError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Panel “{panel.title}” finalized: its truth is stored.")
    return redirect("panel-detail", pk=panel.pk)


def _reported_panel(pk: int) -> Panel:
    panel = get_object_or_404(Panel, pk=pk)
    if panel.status in (Panel.Status.ANNOTATING, Panel.Status.VOTING):
        raise Http404("the panel has no report before its vote is done")
    return panel


@coordinator_required
def panel_report(request, pk: int):
    panel = _reported_panel(pk)
    return render(
        request, "panels/panel_report.html", {"panel": panel, "report": selectors.report(panel)}
    )


def _csv(rows: list[list[str]], filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    csv.writer(response).writerows(rows)
    return response


@coordinator_required
def panel_report_csv(request, pk: int, table: str):
    panel = _reported_panel(pk)
    if table not in ("labels", "agreement", "masks"):
        raise Http404("the report has a labels table, an agreement table and a masks table")
    if table == "masks":
        return _csv(selectors.mask_csv_rows(panel), f"panel-{panel.pk}-masks.csv")
    if table == "agreement":
        return _csv(selectors.agreement_csv_rows(panel), f"panel-{panel.pk}-agreement.csv")
    return _csv(selectors.report_csv_rows(panel), f"panel-{panel.pk}-labels.csv")


@panel_member_required
def my_panels(request):
    context = {
        "annotating": selectors.panels_for_annotator(request.user),
        "adjudicating": selectors.panels_for_adjudicator(request.user),
    }
    return render(request, "panels/my_panels.html", context)


def _seat(request, pk: int):
    seat = selectors.seat_of(request.user, pk)
    if seat is None:
        raise Http404("no such panel")
    return seat


@annotator_required
def annotate_list(request, pk: int):
    seat = _seat(request, pk)
    context = {"panel": seat.panel, "seat": seat, "cases": selectors.annotator_cases(seat)}
    return render(request, "panels/annotate_list.html", context)


@annotator_required
def annotate_case(request, pk: int, code: str):
    seat = _seat(request, pk)
    panel = seat.panel
    panel_case = selectors.panel_case(panel, code)
    if panel_case is None:
        raise Http404("no such case in this panel")
    status = 200
    if request.method == "POST":
        form = AnnotationForm(request.POST, panel=panel)
        if form.is_valid():
            try:
                services.annotate(request.user, panel.pk, code, form.cleaned_data)
            except PanelError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"Labels of {code} saved.")
                todo = [c for c in selectors.annotator_cases(seat) if not c["done"]]
                if todo:
                    return redirect("panel-annotate-case", pk=panel.pk, code=todo[0]["code"])
                return redirect("panel-annotate", pk=panel.pk)
        status = 400
    else:
        form = AnnotationForm(
            panel=panel, initial=AnnotationForm.initial_for(selectors.own_annotation(seat, code))
        )
    context = {
        "panel": panel,
        "case": panel_case.case,
        "series": panel_case.case.primary_series,
        "form": form,
        "editable": panel.status == Panel.Status.ANNOTATING,
        "back": "panel-annotate",
        "draws_mask": L.HEMATOMA_MASK in panel.labels,
        "slice_options": [
            {"value": v, "label": v.upper()} for v in L.slice_label_values(panel.labels)
        ]
        if L.SLICE_LABELS in panel.labels
        else None,
    }
    return render(request, "panels/annotate_case.html", context, status=status)


@annotator_required
@require_POST
def mask_upload(request, pk: int, code: str):
    """The viewer's segmentation upload (raw uint8 with ?shape=, or NIfTI): 201 and
    ``{file, sha256, voxels}``, or the problem as ``{code, detail}``."""
    content_type = (request.content_type or "").split(";")[0].strip()
    try:
        body = request.body
    except RequestDataTooBig:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
        detail = f"the mask upload is larger than {limit} MiB; send it gzip-compressed"
        return JsonResponse({"code": "mask_too_large", "detail": detail}, status=413)
    try:
        mask = services.upload_mask(
            request.user, pk, code, body, content_type, request.GET.get("shape")
        )
    except DomainError as exc:
        return JsonResponse({"code": exc.code, "detail": exc.message}, status=exc.status)
    return JsonResponse(
        {"file": mask.file, "sha256": mask.sha256, "voxels": mask.voxels}, status=201
    )


@annotator_required
def mask_download(request, pk: int, code: str, sha256: str):
    """One of the caller's own masks as raw uint8 (gzip) to restore the viewer; another
    annotator's mask is answered as not found."""
    mask = masks.own_mask(_seat(request, pk), code, sha256)
    if mask is None:
        raise Http404("no such mask")
    data, shape = masks.mask_bytes(mask)
    response = HttpResponse(
        gzip.compress(data, compresslevel=1, mtime=0), content_type="application/octet-stream"
    )
    response["Content-Encoding"] = "gzip"
    response["X-Overlay"] = json.dumps(
        {"method": "segmentation", "shape": list(shape), "range": [0, 1]}
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _adjudicated_panel(request, pk: int) -> Panel:
    panel = selectors.panels_for_adjudicator(request.user).filter(pk=pk).first()
    if panel is None:
        raise Http404("no such panel")
    return panel


@adjudicator_required
def adjudicate_list(request, pk: int):
    panel = _adjudicated_panel(request, pk)
    items = selectors.items_to_adjudicate(panel)
    cases: dict[str, dict] = {}
    for item in items:
        row = cases.setdefault(item["case"], {"code": item["case"], "open": 0, "total": 0})
        row["total"] += 1
        row["open"] += not item["decided"]
    context = {"panel": panel, "cases": list(cases.values())}
    return render(request, "panels/adjudicate_list.html", context)


@adjudicator_required
def adjudicate_case(request, pk: int, code: str):
    panel = _adjudicated_panel(request, pk)
    panel_case = selectors.panel_case(panel, code)
    items = [i for i in selectors.items_to_adjudicate(panel) if i["case"] == code]
    if panel_case is None or not items:
        raise Http404("nothing to adjudicate on this case")
    errors = []
    if request.method == "POST":
        decisions = {i["key"]: request.POST.get(f"item-{i['key']}", "") for i in items}
        try:
            with transaction.atomic():
                for key, text in decisions.items():
                    if text:
                        services.adjudicate(
                            request.user, panel.pk, code, key, decision_value(key, text)
                        )
        except PanelError as exc:
            errors.append(exc.message)
        else:
            messages.success(request, f"Decisions on {code} saved.")
            return redirect("panel-adjudicate", pk=panel.pk)
    context = {
        "panel": panel,
        "case": panel_case.case,
        "series": panel_case.case.primary_series,
        "items": items,
        "errors": errors,
        "editable": panel.status == Panel.Status.ADJUDICATING,
    }
    return render(request, "panels/adjudicate_case.html", context, status=400 if errors else 200)
