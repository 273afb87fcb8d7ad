"""Coordinator page action: import a model's predictions made elsewhere (a CSV or JSON file,
optionally a slices CSV) as a model version of the study; see :mod:`.external_predictions`."""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from readerstudy.accounts.decorators import coordinator_required

from .errors import StudyError
from .external_predictions import DEFAULT_THRESHOLD, SourceFile, import_predictions
from .models import ReaderStudy

MAX_BYTES = 50 * 1024 * 1024


class PredictionsImportForm(forms.Form):
    model_name = forms.CharField(max_length=200)
    model_version = forms.CharField(max_length=40)
    predictions = forms.FileField(help_text="CSV (case_id + one column per label) or JSON")
    slices = forms.FileField(
        required=False, help_text="optional CSV: case_id, slice (UID or index), labels"
    )
    threshold = forms.FloatField(
        min_value=0, max_value=1, initial=DEFAULT_THRESHOLD,
        help_text="the operating point's threshold when the file names none",
    )  # fmt: skip


def _source(upload) -> SourceFile:
    if upload.size > MAX_BYTES:
        raise StudyError("bad_predictions", f"{upload.name}: larger than {MAX_BYTES} bytes")
    return SourceFile(upload.name, upload.read())


@coordinator_required
@require_POST
def predictions_import(request, pk: int):
    study = get_object_or_404(ReaderStudy, pk=pk)
    form = PredictionsImportForm(request.POST, request.FILES)
    try:
        if not form.is_valid():
            raise StudyError("bad_form", f"invalid import: {form.errors.as_text()}")
        data = form.cleaned_data
        version = import_predictions(
            study,
            model_name=data["model_name"],
            model_version=data["model_version"],
            predictions=_source(data["predictions"]),
            slices=_source(data["slices"]) if data.get("slices") else None,
            user=request.user,
            threshold=data["threshold"],
        )
    except StudyError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"Imported {version} ({version.jobs.count()} case outputs); choose it in a "
            "condition's assistance settings.",
        )
    return redirect(f"{reverse('study-detail', args=[study.pk])}#inference")
