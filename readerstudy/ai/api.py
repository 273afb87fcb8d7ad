"""Coordinator API: registered models, inference jobs (request, watch, cancel)."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from readerstudy.accounts.permissions import IsCoordinator
from readerstudy.cases.models import Case
from readerstudy.core.errors import DomainError

from . import dicom_export, services
from .models import InferenceJob, InferenceOutput, ModelVersion
from .serializers import JobRequestSerializer, JobSerializer, ModelVersionSerializer


def _refused(exc: Exception) -> DomainError:
    error = DomainError("inference_refused", str(exc))
    error.status = 409
    return error


class ModelVersionListApi(APIView):
    permission_classes = [IsCoordinator]

    @extend_schema(responses=ModelVersionSerializer(many=True))
    def get(self, request):
        return Response(ModelVersionSerializer(ModelVersion.objects.all(), many=True).data)


class InferenceJobListApi(APIView):
    permission_classes = [IsCoordinator]

    @extend_schema(responses=JobSerializer(many=True))
    def get(self, request):
        jobs = InferenceJob.objects.select_related("case", "model_version")
        if request.query_params.get("case"):
            jobs = jobs.filter(case__code=request.query_params["case"])
        return Response(JobSerializer(jobs[:500], many=True).data)

    @extend_schema(request=JobRequestSerializer, responses={201: JobSerializer})
    def post(self, request):
        data = JobRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = get_object_or_404(Case, code=data.validated_data["case"])
        explain = data.validated_data.get("explain")
        version = data.validated_data["model_version"]
        unknown = sorted(set(explain or []) - set(version.explainers))
        if unknown:
            raise DomainError(
                "unknown_explainer",
                f"{version} has no explainer(s) {unknown}; it has {version.explainers}",
            )
        try:
            job = services.request_inference(
                case,
                version,
                params=None if explain is None else {"explain": explain},
                user=request.user,
            )
        except services.InferenceRefused as exc:
            raise _refused(exc) from None
        return Response(JobSerializer(job).data, status=status.HTTP_201_CREATED)


class InferenceJobDetailApi(APIView):
    permission_classes = [IsCoordinator]

    @extend_schema(responses=JobSerializer)
    def get(self, request, pk):
        return Response(JobSerializer(get_object_or_404(InferenceJob, pk=pk)).data)


class InferenceJobCancelApi(APIView):
    permission_classes = [IsCoordinator]

    @extend_schema(request=None, responses=JobSerializer)
    def post(self, request, pk):
        try:
            job = services.cancel(get_object_or_404(InferenceJob, pk=pk))
        except services.InferenceRefused as exc:
            raise _refused(exc) from None
        return Response(JobSerializer(job).data)


class InferenceJobDicomApi(APIView):
    """The job's mask as a DICOM Segmentation and its heatmaps as Parametric Maps (a zip)."""

    permission_classes = [IsCoordinator]

    @extend_schema(responses={(200, "application/zip"): bytes})
    def get(self, request, pk):
        job = get_object_or_404(InferenceJob.objects.select_related("model_version"), pk=pk)
        output = InferenceOutput.objects.filter(job=job).first()
        if job.status != InferenceJob.Status.SUCCEEDED or output is None:
            error = DomainError("no_output", f"job {job.pk} has no output ({job.status})")
            error.status = 409
            raise error
        try:
            data = dicom_export.export_zip(output)
        except dicom_export.ExportRefused as exc:
            error = DomainError("export_refused", str(exc))
            error.status = 409
            raise error from None
        response = HttpResponse(data, content_type="application/zip")
        name = f"{job.case.code}-{job.model_version.model_id}-dicom.zip"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
