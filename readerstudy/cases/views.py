"""Coordinator case browser and the upload API."""

import io

import numpy as np
import SimpleITK as sitk
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import cache_control
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from readerstudy.accounts.decorators import coordinator_required
from readerstudy.accounts.permissions import IsCoordinator
from readerstudy.core.parsers import JSONParser

from .errors import ImportFailed, UploadRefused
from .forms import LabelsUploadForm
from .selectors import (
    import_job,
    import_job_state,
    library_case,
    library_cases,
    recent_import_jobs,
)
from .serializers import (
    ImportJobRequestSerializer,
    ImportJobStateSerializer,
    ProblemSerializer,
    UploadFailedSerializer,
    UploadRequestSerializer,
    UploadResultSerializer,
)
from .storage import local_copy
from .upload_names import uploaded_names
from .uploads import create_upload_job, import_upload, refuse_upload, upload_to_job


def _too_large(request) -> bool:
    return int(request.META.get("CONTENT_LENGTH") or 0) > settings.MAX_UPLOAD_BYTES


def _too_large_detail() -> str:
    return f"uploads are limited to {settings.MAX_UPLOAD_BYTES // 2**20} MB"


def _failed(exc: ImportFailed, files, job=None) -> Response:
    body = {"code": exc.code, "detail": exc.message, "errors": exc.errors}
    if job is not None:
        body["job"] = import_job_state(job)
    names = uploaded_names(files, exc.errors)
    if names:
        body["names"] = names
    return Response(body, status=400)


def _succeeded(job, files, status_code: int = 200) -> Response:
    """The job's state, with the uploaded names of the files it left out (for the uploader)."""
    body = import_job_state(job)
    names = uploaded_names(files, body["errors"])
    if names:
        body["names"] = names
    return Response(body, status=status_code)


def imported_message(job) -> str:
    codes = ", ".join(job.cases.values_list("code", flat=True))
    if job.created_case is False:
        return f"Case {codes} was already in the library; nothing new was stored."
    return f"Imported case {codes}."


class UploadApi(APIView):
    """POST multipart ``files`` (DICOM files of one study, or one zip) [+ ``collection``]."""

    permission_classes = [IsCoordinator]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": UploadRequestSerializer},
        responses={
            201: UploadResultSerializer,
            400: UploadFailedSerializer,
            413: ProblemSerializer,
        },
    )
    def post(self, request):
        if _too_large(request):
            return Response(
                {"code": "upload_too_large", "detail": _too_large_detail()},
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
            return _failed(exc, files)
        return _succeeded(job, files, status.HTTP_201_CREATED)


class ImportJobCreateApi(APIView):
    """POST [``collection``]: a job waiting for one study's files; poll it while they import."""

    permission_classes = [IsCoordinator]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(request=ImportJobRequestSerializer, responses={201: ImportJobStateSerializer})
    def post(self, request):
        data = ImportJobRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = create_upload_job(
            user=request.user, collection_name=data.validated_data.get("collection") or None
        )
        return Response(import_job_state(job), status=status.HTTP_201_CREATED)


class ImportJobUploadApi(APIView):
    """POST multipart ``files`` to a waiting job of yours (once); answers when it finished."""

    permission_classes = [IsCoordinator]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": UploadRequestSerializer},
        responses={
            200: UploadResultSerializer,
            400: UploadFailedSerializer,
            403: ProblemSerializer,
            404: ProblemSerializer,
            409: ProblemSerializer,
            413: ProblemSerializer,
        },
    )
    def post(self, request, job_id):
        if _too_large(request):
            refuse_upload(
                job_id, user=request.user, code="upload_too_large", message=_too_large_detail()
            )
            return Response(
                {"code": "upload_too_large", "detail": _too_large_detail()},
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        files = request.FILES.getlist("files")
        try:
            job = upload_to_job(job_id, files, user=request.user)
        except UploadRefused as exc:
            return Response({"code": exc.code, "detail": exc.message}, status=exc.status)
        except ImportFailed as exc:
            return _failed(exc, files, import_job(job_id))
        return _succeeded(job, files)


class ImportJobApi(APIView):
    """GET: status, phase, done/total of the phase, cases and errors of an import job."""

    permission_classes = [IsCoordinator]

    @extend_schema(responses={200: ImportJobStateSerializer, 404: ProblemSerializer})
    def get(self, request, job_id):
        job = import_job(job_id)
        if job is None:
            return Response({"code": "not_found", "detail": "no such import job"}, status=404)
        return Response(import_job_state(job), headers={"Cache-Control": "no-store"})


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
                messages.success(request, imported_message(job))
            except ImportFailed as exc:
                for error in exc.errors[:10]:
                    messages.error(request, f"[{error['code']}] {error['message']}")
        return redirect("case-list")
    return render_library(request)


def render_library(request, labels_form=None, label_errors=(), status_code=200):
    context = {
        "cases": library_cases(),
        "jobs": recent_import_jobs(),
        "labels_form": labels_form or LabelsUploadForm(),
        "label_errors": label_errors,
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
