"""Case-library API: uploads and import jobs, the labels CSV and each case's ground truth.

Coordinators manage the library (they import it); readers and statisticians get 403. An upload
is answered at once (202, the job); a worker imports it, and the job says how far it got.
"""

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from readerstudy import audit
from readerstudy.accounts.permissions import IsCoordinator
from readerstudy.core.parsers import JSONParser

from .errors import LabelError, UploadRefused
from .import_jobs import cancel_import
from .models import GroundTruth
from .selectors import import_job, import_job_state, library_case, truth_state
from .serializers import (
    ImportJobRequestSerializer,
    ImportJobStateSerializer,
    LabelErrorsSerializer,
    LabelSummarySerializer,
    LabelsUploadSerializer,
    ProblemSerializer,
    TruthErrorsSerializer,
    TruthSerializer,
    UploadAcceptedSerializer,
    UploadRequestSerializer,
)
from .truth import set_truth, upload_labels
from .upload_handler import staged_uploads
from .upload_limits import too_large, too_large_detail
from .upload_names import hashed_names
from .uploads import accept_files, create_upload_job, refuse_upload, start_import

UPLOAD_RESPONSES = {
    202: UploadAcceptedSerializer,
    400: ProblemSerializer,
    413: ProblemSerializer,
    507: ProblemSerializer,
}


def _problem(code: str, detail: str, status_code: int) -> Response:
    return Response(ProblemSerializer({"code": code, "detail": detail}).data, status=status_code)


def _too_large() -> Response:
    return _problem(
        "upload_too_large", too_large_detail(), status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    )


def _accepted(job, names: dict[str, str]) -> Response:
    """202: the queued job, and the names the uploader sent for the hashed labels."""
    body = import_job_state(job)
    if names:
        body["names"] = names
    url = reverse("api-import-job", args=[job.pk])
    return Response(
        UploadAcceptedSerializer(body).data, status=status.HTTP_202_ACCEPTED,
        headers={"Location": url, "Cache-Control": "no-store"},
    )  # fmt: skip


class StagedUploadApi(APIView):
    """Multipart files streamed to private temporary files, removed when the request ends
    unless stored for the import (``upload_handler``); ``self.upload`` knows whether the
    upload was too large."""

    parser_classes = [MultiPartParser]

    def dispatch(self, request, *args, **kwargs):
        with staged_uploads(request) as self.upload:
            return super().dispatch(request, *args, **kwargs)

    def refused_size(self, request) -> bool:
        return self.upload.too_large or too_large(request)


class CaseUploadApi(StagedUploadApi):
    """POST multipart ``files`` (DICOM files of one study, or one zip) [+ ``collection``]:
    202 with the queued job; poll ``GET /api/cases/imports/<id>/`` (the ``Location``)."""

    permission_classes = [IsCoordinator]

    @extend_schema(
        request={"multipart/form-data": UploadRequestSerializer}, responses=UPLOAD_RESPONSES
    )
    def post(self, request):
        files = request.FILES.getlist("files")  # streamed to disk here, counted as it comes
        if self.refused_size(request):
            return _too_large()
        names = hashed_names(files)
        try:
            job = start_import(
                files, user=request.user, collection_name=request.data.get("collection") or None
            )
        except UploadRefused as exc:
            return _problem(exc.code, exc.message, exc.status)
        return _accepted(job, names)


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
        body = ImportJobStateSerializer(import_job_state(job)).data
        return Response(body, status=status.HTTP_201_CREATED)


class ImportJobUploadApi(StagedUploadApi):
    """POST multipart ``files`` to a waiting job of yours (once): 202 with the job, queued."""

    permission_classes = [IsCoordinator]

    @extend_schema(
        request={"multipart/form-data": UploadRequestSerializer},
        responses={
            **UPLOAD_RESPONSES,
            403: ProblemSerializer,
            404: ProblemSerializer,
            409: ProblemSerializer,
        },
    )
    def post(self, request, job_id):
        files = request.FILES.getlist("files")  # streamed to disk here, counted as it comes
        if self.refused_size(request):
            refuse_upload(
                job_id, user=request.user, code="upload_too_large", message=too_large_detail()
            )
            return _too_large()
        names = hashed_names(files)
        try:
            job = accept_files(job_id, files, user=request.user)
        except UploadRefused as exc:
            return _problem(exc.code, exc.message, exc.status)
        return _accepted(job, names)


class ImportJobDetailApi(APIView):
    """GET: status, phase, done/total of the phase, cases and errors of an import job."""

    permission_classes = [IsCoordinator]

    @extend_schema(responses={200: ImportJobStateSerializer, 404: ProblemSerializer})
    def get(self, request, job_id):
        job = import_job(job_id)
        if job is None:
            return _problem("not_found", "no such import job", 404)
        body = ImportJobStateSerializer(import_job_state(job)).data
        return Response(body, headers={"Cache-Control": "no-store"})


class ImportJobCancelApi(APIView):
    """POST: cancel a queued import of yours (one waiting for its files, too).

    A running import is all-or-nothing and cannot be stopped: 409, as for a finished one.
    """

    permission_classes = [IsCoordinator]

    @extend_schema(
        request=None,
        responses={
            200: ImportJobStateSerializer,
            403: ProblemSerializer,
            404: ProblemSerializer,
            409: ProblemSerializer,
        },
    )
    def post(self, request, job_id):
        job = cancel_import(job_id, user=request.user)
        return Response(ImportJobStateSerializer(import_job_state(import_job(job.pk))).data)


class CaseLabelsUploadApi(APIView):
    """POST multipart ``file`` (a labels CSV) [+ ``kind``]: every row stored, or none."""

    permission_classes = [IsCoordinator]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": LabelsUploadSerializer},
        responses={200: LabelSummarySerializer, 400: LabelErrorsSerializer},
    )
    def post(self, request):
        data = LabelsUploadSerializer(data=request.data)
        if not data.is_valid():
            return _label_errors(
                "invalid_request", "send the CSV as 'file'",
                [f"{k}: {' '.join(map(str, v))}" for k, v in data.errors.items()],
            )  # fmt: skip
        kind = data.validated_data["kind"]
        try:
            summary = upload_labels(data.validated_data["file"], kind)
        except LabelError as exc:
            return _label_errors(exc.code, exc.message, exc.errors)
        audit.record(
            request.user, "labels.import", GroundTruth, labels=kind, summary=summary.message
        )
        body = {
            "kind": kind,
            "cases": summary.cases,
            "created": summary.created,
            "updated": summary.updated,
            "detail": summary.message,
        }
        return Response(LabelSummarySerializer(body).data)


def _label_errors(code: str, detail: str, errors: list[str]) -> Response:
    body = {"code": code, "detail": detail, "errors": errors}
    return Response(LabelErrorsSerializer(body).data, status=400)


class CaseTruthDetailApi(APIView):
    """GET a case's ground truth; PUT replaces it (the labels CSV's rules, stored atomically)."""

    permission_classes = [IsCoordinator]
    parser_classes = [JSONParser]

    @extend_schema(responses={200: TruthSerializer, 404: ProblemSerializer})
    def get(self, request, code: str):
        case = library_case(code)
        if case is None:
            return _problem("not_found", "no such case", 404)
        return Response(TruthSerializer(truth_state(case)).data)

    @extend_schema(
        request=TruthSerializer,
        responses={200: TruthSerializer, 400: TruthErrorsSerializer, 404: ProblemSerializer},
    )
    def put(self, request, code: str):
        case = library_case(code)
        if case is None:
            return _problem("not_found", "no such case", 404)
        data = TruthSerializer(data=request.data)
        if not data.is_valid():
            body = {
                "code": "invalid_truth",
                "detail": "the truth values cannot be stored",
                "errors": data.errors,
            }
            return Response(TruthErrorsSerializer(body).data, status=400)
        truth = set_truth(case, data.validated_data["row"], source="api")
        audit.record(request.user, "truth.edit", truth, case=case.code)
        stored = library_case(code)
        if stored is None:  # deleted meanwhile
            return _problem("not_found", "no such case", 404)
        return Response(TruthSerializer(truth_state(stored)).data)
