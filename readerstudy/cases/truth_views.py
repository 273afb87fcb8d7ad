"""Ground truth in the case library: the labels CSV upload and each case's truth page (their
API is in ``api``).

Coordinators manage truth (they import it); readers and statisticians get 403.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from readerstudy import audit
from readerstudy.accounts.decorators import coordinator_required

from .case_sections import case_sections
from .errors import LabelError, TruthInvalid
from .forms import LabelsUploadForm, TruthForm
from .models import GroundTruth
from .provenance import rows as provenance_rows
from .selectors import library_case, truth_state
from .truth import set_truth, upload_labels
from .views import render_library


def _case_or_404(code: str):
    case = library_case(code)
    if case is None:
        raise Http404("no such case")
    return case


@coordinator_required
@require_POST
def labels_upload(request):
    form = LabelsUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return render_library(request, labels_form=form, status_code=400)
    try:
        summary = upload_labels(form.cleaned_data["file"], form.cleaned_data["kind"])
    except LabelError as exc:
        return render_library(request, labels_form=form, label_errors=exc.errors, status_code=400)
    audit.record(
        request.user,
        "labels.import",
        GroundTruth,
        labels=form.cleaned_data["kind"],
        summary=summary.message,
    )
    messages.success(request, summary.message[0].upper() + summary.message[1:] + ".")
    return redirect("case-list")


@coordinator_required
def case_detail(request, code: str):
    case = _case_or_404(code)
    status_code = 200
    if request.method == "POST":
        form = TruthForm(request.POST)
        if form.is_valid():
            try:
                truth = set_truth(case, form.cleaned_data["row"], source="case page")
                audit.record(request.user, "truth.edit", truth, case=case.code)
            except TruthInvalid as exc:  # checked by the form already; kept for safety
                for column, message in exc.problems:
                    form.add_error(column if column in form.fields else None, message)
            else:
                messages.success(request, f"Ground truth of {case.code} saved.")
                return redirect("case-detail", code=case.code)
        status_code = 400
    else:
        form = TruthForm(initial=TruthForm.initial_for(truth_state(case)))
    stored = GroundTruth.objects.filter(case=case).first()
    context = {
        "case": case,
        "series": case.primary_series,
        "truth": truth_state(case),
        "provenance": provenance_rows(stored.provenance) if stored else [],
        "form": form,
        "sections": case_sections(case),
    }
    return render(request, "cases/case_detail.html", context, status=status_code)
