"""The coordinators' page of annotator masks (seed 001's reliability step): the upload of one
mask, the masks stored, Dice between them and its CSV. Readers and statisticians get 403."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from readerstudy import audit
from readerstudy.accounts.decorators import coordinator_required
from readerstudy.analysis.segmentation_dice import dice_csv

from .annotator_forms import AnnotatorMaskForm
from .annotator_masks import import_upload
from .annotator_selectors import (
    LABELS,
    annotator_dice_rows,
    annotator_dice_summary,
    annotator_masks,
)
from .errors import AnnotatorMaskError
from .models import AnnotatorMask


def _render(request, *, form=None, errors=(), status=200):
    rows = annotator_dice_rows()
    context = {
        "form": form or AnnotatorMaskForm(),
        "mask_errors": errors,
        "masks": annotator_masks(),
        "dice_rows": [
            {**row, "label": LABELS.get(row["comparison"], row["comparison"])} for row in rows
        ],
        "dice_summary": annotator_dice_summary(rows),
    }
    return render(request, "cases/annotator_masks.html", context, status=status)


@coordinator_required
def annotator_mask_list(request):
    return _render(request)


@coordinator_required
@require_POST
def annotator_mask_upload(request):
    form = AnnotatorMaskForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render(request, form=form, status=400)
    try:
        summary = import_upload(form.row(), form.cleaned_data["file"], actor=request.user)
    except AnnotatorMaskError as exc:
        return _render(request, form=form, errors=exc.errors, status=400)
    messages.success(request, summary.message[0].upper() + summary.message[1:] + ".")
    return redirect("case-annotator-masks")


@coordinator_required
def annotator_dice_csv(request):
    response = HttpResponse(dice_csv(annotator_dice_rows()), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="annotator-dice.csv"'
    audit.record(request.user, "export.download", AnnotatorMask, file="annotator-dice.csv")
    return response
