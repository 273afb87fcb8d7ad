"""Coordinator case browser and the upload API."""

import io

import numpy as np
import SimpleITK as sitk
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, user_passes_test
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import cache_control
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from readerstudy.accounts.permissions import IsCoordinator

from .errors import ImportFailed
from .models import Case, ImportJob
from .storage import local_copy
from .uploads import import_upload

coordinator_required = user_passes_test(lambda u: u.is_authenticated and u.is_coordinator)


def _too_large(request) -> bool:
    return int(request.META.get("CONTENT_LENGTH") or 0) > settings.MAX_UPLOAD_BYTES


def _job_json(job: ImportJob) -> dict:
    return {
        "id": str(job.pk),
        "status": job.status,
        "progress": job.progress,
        "cases": list(job.cases.values_list("code", flat=True)),
        "errors": job.errors,
    }


class UploadApi(APIView):
    """POST multipart ``files`` (DICOM files of one study, or one zip) [+ ``collection``]."""

    permission_classes = [IsCoordinator]
    parser_classes = [MultiPartParser]

    @extend_schema(request={"multipart/form-data": dict}, responses={201: dict, 400: dict})
    def post(self, request):
        if _too_large(request):
            return Response(
                {
                    "code": "upload_too_large",
                    "detail": f"uploads are limited to {settings.MAX_UPLOAD_BYTES // 2**20} MB",
                },
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        files = request.FILES.getlist("files")
        if not files:
            return Response(
                {"code": "no_files", "detail": "send the study's files as 'files'"}, status=400
            )
        try:
            job = import_upload(
                files, user=request.user, collection_name=request.data.get("collection") or None
            )
        except ImportFailed as exc:
            return Response(
                {"code": exc.code, "detail": exc.message, "errors": exc.errors}, status=400
            )
        return Response(_job_json(job), status=status.HTTP_201_CREATED)


class ImportJobApi(APIView):
    permission_classes = [IsCoordinator]

    @extend_schema(responses={200: dict})
    def get(self, request, job_id):
        return Response(_job_json(get_object_or_404(ImportJob, pk=job_id)))


@login_required
@coordinator_required
def case_list(request):
    if request.method == "POST":
        if _too_large(request):
            messages.error(
                request, f"Uploads are limited to {settings.MAX_UPLOAD_BYTES // 2**20} MB."
            )
        else:
            try:
                job = import_upload(
                    request.FILES.getlist("files"), user=request.user,
                    collection_name=request.POST.get("collection") or None,
                )  # fmt: skip
                messages.success(
                    request, f"Imported case {', '.join(job.cases.values_list('code', flat=True))}."
                )
            except ImportFailed as exc:
                for error in exc.errors[:10]:
                    messages.error(request, f"[{error['code']}] {error['message']}")
        return redirect("case-list")
    cases = Case.objects.select_related("primary_series", "collection").order_by("-created_at")[
        :500
    ]
    jobs = ImportJob.objects.order_by("-created_at")[:20]
    return render(request, "cases/case_list.html", {"cases": cases, "jobs": jobs})


@login_required
@coordinator_required
@cache_control(private=True, max_age=3600)
def thumbnail(request, code: str):
    """Middle slice of the primary series, brain window (40/80), as PNG."""
    from PIL import Image

    case = get_object_or_404(Case, code=code)
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
