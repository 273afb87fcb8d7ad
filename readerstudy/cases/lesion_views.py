"""The truth lesions page of the case library: a lesions CSV (checked first, or checked and
stored) or the hematoma masks' connected components, through the services of ``lesions`` that
``manage.py import_lesions`` uses. A refused import lists every problem and stores nothing.

Coordinators manage truth (they import it); readers and statisticians get 403.
"""

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from readerstudy import audit
from readerstudy.accounts.decorators import coordinator_required

from .errors import LabelError
from .forms import LesionsCsvForm, MaskLesionsForm
from .lesion_selectors import lesion_overview
from .lesions import extract_masks_lesions, import_lesions_csv
from .models import TruthLesion


def _page(request, *, csv_form=None, mask_form=None, errors=(), checked=None, status=200):
    context = {
        "csv_form": csv_form or LesionsCsvForm(),
        "mask_form": mask_form or MaskLesionsForm(),
        "errors": errors,
        "checked": checked,
        "cases": lesion_overview(),
    }
    return render(request, "cases/lesions.html", context, status=status)


def _counted(summary) -> str:
    return (
        f"{summary.lesions} lesion{'s' if summary.lesions != 1 else ''} of "
        f"{summary.cases} case{'s' if summary.cases != 1 else ''}"
    )


@coordinator_required
def lesions_page(request):
    return _page(request)


@coordinator_required
@require_POST
def lesions_csv(request):
    """``action=check``: only check the CSV and say what it would store; else store it."""
    form = LesionsCsvForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, csv_form=form, status=400)
    check_only = request.POST.get("action") == "check"
    upload = form.cleaned_data["file"]
    try:
        with transaction.atomic():
            summary = import_lesions_csv(upload, store=not check_only)
            if not check_only:
                audit.record(
                    request.user, "lesions.import", TruthLesion, source="csv",
                    file=upload.name, cases=summary.cases, lesions=summary.lesions,
                )  # fmt: skip
    except LabelError as exc:
        return _page(request, csv_form=form, errors=exc.errors, status=400)
    if check_only:
        return _page(request, csv_form=form, checked=f"{upload.name}: {_counted(summary)}")
    messages.success(request, f"Truth lesions imported: {_counted(summary)}.")
    return redirect("case-lesions")


@coordinator_required
@require_POST
def lesions_from_masks(request):
    form = MaskLesionsForm(request.POST)
    if not form.is_valid():
        return _page(request, mask_form=form, status=400)
    options = {
        "weighting": form.cleaned_data["weighting"],
        "min_voxels": form.cleaned_data["min_voxels"],
    }
    try:
        with transaction.atomic():
            summary = extract_masks_lesions(form.codes() or None, **options)
            audit.record(
                request.user, "lesions.import", TruthLesion, source="mask",
                cases=summary.cases, lesions=summary.lesions, **options,
            )  # fmt: skip
    except LabelError as exc:
        return _page(request, mask_form=form, errors=exc.errors, status=400)
    messages.success(request, f"Truth lesions from the hematoma masks: {_counted(summary)}.")
    return redirect("case-lesions")
