"""Coordinator case browser (its API is in ``api``)."""

import io

import numpy as np
import SimpleITK as sitk
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from readerstudy.accounts.decorators import coordinator_required

from .errors import UploadRefused
from .forms import LabelsUploadForm
from .selectors import library_case, library_cases, recent_import_jobs
from .storage import local_copy
from .upload_handler import staged_uploads
from .upload_limits import too_large
from .uploads import start_import


def imported_message(job) -> str:
    codes = ", ".join(job.cases.values_list("code", flat=True))
    if job.created_case is False:
        return f"Case {codes} was already in the library; nothing new was stored."
    return f"Imported case {codes}."


def queued_message(job) -> str:
    return (
        f"Upload received ({job.total} file{'s' if job.total != 1 else ''}); it is being "
        "imported. Reload this page to see the outcome under Recent imports."
    )


@csrf_exempt  # checked in _upload_from_page, once the upload handler is in place
@coordinator_required
def case_list(request):
    if request.method == "POST":
        with staged_uploads(request) as upload:
            return _upload_from_page(request, upload)
    return render_library(request)


@csrf_protect
def _upload_from_page(request, upload):
    """The form without JavaScript: the files are queued for a worker, the page says so."""
    files = request.FILES.getlist("files")  # streamed to disk here, counted as it comes
    if upload.too_large or too_large(request):
        messages.error(request, f"Uploads are limited to {settings.MAX_UPLOAD_BYTES // 2**20} MB.")
        return redirect("case-list")
    try:
        job = start_import(
            files, user=request.user, collection_name=request.POST.get("collection") or None
        )
    except UploadRefused as exc:
        messages.error(request, f"[{exc.code}] {exc.message}")
        return redirect("case-list")
    job.refresh_from_db()  # a worker (or an eager task) may have finished it already
    if job.status == job.Status.SUCCEEDED:
        messages.success(request, imported_message(job))
    elif job.status == job.Status.FAILED:
        for error in job.errors[:10]:
            messages.error(request, f"[{error['code']}] {error['message']}")
    else:
        messages.info(request, queued_message(job))
    return redirect("case-list")


def render_library(request, labels_form=None, label_errors=(), status_code=200):
    context = {
        "cases": library_cases(),
        "jobs": recent_import_jobs(),
        "labels_form": labels_form or LabelsUploadForm(),
        "label_errors": label_errors,
        "max_upload_bytes": settings.MAX_UPLOAD_BYTES,
    }
    return render(request, "cases/case_list.html", context, status=status_code)


@coordinator_required
@cache_control(private=True, max_age=3600)
def thumbnail(request, code: str):
    """Middle slice of the primary series, brain window (40/80), as PNG."""
    from PIL import Image

    case = library_case(code)
    if case is None:
        raise Http404("no such case")
    if case.primary_series is None or not case.primary_series.volume:
        return HttpResponse(status=404)
    with local_copy(case.primary_series.volume) as path:
        volume = sitk.GetArrayFromImage(sitk.ReadImage(str(path)))
    middle = volume[volume.shape[0] // 2].astype(np.float32)
    pixels = np.clip((middle - 0.0) / 80.0 * 255.0, 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels).resize((128, 128))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return HttpResponse(buffer.getvalue(), content_type="image/png")
