"""Case-library API: uploads and import jobs, the labels CSV and each case's ground truth.

Coordinators manage the library (they import it); readers and statisticians get 403.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from readerstudy.accounts.permissions import IsCoordinator
from readerstudy.core.parsers import JSONParser

from .errors import ImportFailed, LabelError, UploadRefused
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
    UploadFailedSerializer,
    UploadRequestSerializer,
    UploadResultSerializer,
)
from .truth import set_truth, upload_labels
from .upload_limits import too_large, too_large_detail
from .upload_names import uploaded_names
from .uploads import create_upload_job, import_upload, refuse_upload, upload_to_job


def _problem(code: str, detail: str, status_code: int) -> Response:
    return Response(ProblemSerializer({"code": code, "detail": detail}).data, status=status_code)


def _too_large() -> Response:
    return _problem(
        "upload_too_large", too_large_detail(), status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    )


def _failed(exc: ImportFailed, files, job=None) -> Response:
    body = {"code": exc.code, "detail": exc.message, "errors": exc.errors}
    if job is not None:
        body["job"] = import_job_state(job)
    names = uploaded_names(files, exc.errors)
    if names:
        body["names"] = names
    return Response(UploadFailedSerializer(body).data, status=400)


def _succeeded(job, files, status_code: int = 200) -> Response:
    """The job's state, with the uploaded names of the files it left out (for the uploader)."""
    body = import_job_state(job)
    names = uploaded_names(files, body["errors"])
    if names:
        body["names"] = names
    return Response(UploadResultSerializer(body).data, status=status_code)


class CaseUploadApi(APIView):
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
        if too_large(request):
            return _too_large()
        files = request.FILES.getlist("files")
        if not files:
            return _problem("no_files", "send the study's files as 'files'", 400)
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
        body = ImportJobStateSerializer(import_job_state(job)).data
        return Response(body, status=status.HTTP_201_CREATED)


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
        if too_large(request):
            refuse_upload(
                job_id, user=request.user, code="upload_too_large", message=too_large_detail()
            )
            return _too_large()
        files = request.FILES.getlist("files")
        try:
            job = upload_to_job(job_id, files, user=request.user)
        except UploadRefused as exc:
            return _problem(exc.code, exc.message, exc.status)
        except ImportFailed as exc:
            return _failed(exc, files, import_job(job_id))
        return _succeeded(job, files)


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
        set_truth(case, data.validated_data["row"], source="api")
        return Response(TruthSerializer(truth_state(library_case(code))).data)
