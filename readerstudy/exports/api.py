"""Statistician API: the READS table in each format, analysis runs and their report files
(permission-checked)."""

from django.core.files.storage import default_storage
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.text import slugify
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from readerstudy.cases.serializers import ProblemSerializer
from readerstudy.studies.errors import ProtocolConflict, StudyError
from readerstudy.studies.models import ReaderStudy

from . import selectors, services
from .access import analysis_rights, export_rights
from .formats import FORMATS, WRITERS
from .models import AnalysisRun
from .reads import reads_table
from .report_files import report_file_response
from .serializers import AnalysisRequestSerializer, AnalysisRunSerializer


def _rights_or_403(user, study, rule=export_rights):
    rights = rule(user, study)
    if not rights.allowed:
        raise PermissionDenied(rights.reason)
    return rights


class StudyReadsDownloadApi(APIView):
    """GET /api/exports/studies/<id>/reads/<fmt>/ with fmt in csv, parquet, json, imrmc, mrmcaov."""

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request, pk: int, fmt: str):
        study = get_object_or_404(ReaderStudy, pk=pk)
        rights = _rights_or_403(request.user, study)
        if fmt not in WRITERS:
            raise StudyError(
                "unknown_format", f"unknown format {fmt!r}; choose one of {', '.join(WRITERS)}"
            )
        if fmt in ("imrmc", "mrmcaov") and not rights.with_truth:
            raise ProtocolConflict(
                "blinded",
                "MRMC formats need ground truth, which is withheld until the study closes",
            )
        frame = reads_table(study, with_truth=rights.with_truth)
        try:
            data = WRITERS[fmt](frame)
        except ValueError as exc:
            raise StudyError("export_failed", str(exc)) from None
        content_type, extension = FORMATS[fmt]
        response = HttpResponse(data, content_type=content_type)
        response["Content-Disposition"] = (
            f'attachment; filename="{slugify(study.title)}-reads.{extension}"'
        )
        return response


class AnalysisRunListApi(APIView):
    @extend_schema(responses={200: AnalysisRunSerializer(many=True)})
    def get(self, request, pk: int):
        study = get_object_or_404(ReaderStudy, pk=pk)
        _rights_or_403(request.user, study, analysis_rights)
        runs = [selectors.run_summary(run) for run in study.analysis_runs.all()]
        return Response(AnalysisRunSerializer(runs, many=True).data)

    @extend_schema(request=AnalysisRequestSerializer, responses={202: AnalysisRunSerializer})
    def post(self, request, pk: int):
        study = get_object_or_404(ReaderStudy, pk=pk)
        rights = _rights_or_403(request.user, study, analysis_rights)
        body = AnalysisRequestSerializer(data={} if request.data is None else request.data)
        body.is_valid(raise_exception=True)
        run = services.request_analysis(
            study, user=request.user, with_truth=rights.with_truth, options=body.validated_data
        )
        summary = AnalysisRunSerializer(selectors.run_summary(run)).data
        return Response(summary, status=status.HTTP_202_ACCEPTED)


class AnalysisRunDetailApi(APIView):
    @extend_schema(responses={200: AnalysisRunSerializer})
    def get(self, request, run_id):
        run = get_object_or_404(AnalysisRun, pk=run_id)
        _rights_or_403(request.user, run.study, analysis_rights)
        return Response(AnalysisRunSerializer(selectors.run_summary(run)).data)


class AnalysisRunCancelApi(APIView):
    """POST: a queued run never starts; a running one stops at its next phase (no files)."""

    @extend_schema(request=None, responses={200: AnalysisRunSerializer, 409: ProblemSerializer})
    def post(self, request, run_id):
        run = get_object_or_404(AnalysisRun, pk=run_id)
        _rights_or_403(request.user, run.study, analysis_rights)
        run = services.cancel_analysis(run)
        return Response(AnalysisRunSerializer(selectors.run_summary(run)).data)


class AnalysisRunFileApi(APIView):
    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request, run_id, name: str):
        run = get_object_or_404(AnalysisRun, pk=run_id)
        _rights_or_403(request.user, run.study, analysis_rights)
        match = next((f for f in run.files if f.rsplit("/", 1)[-1] == name), None)
        if match is None:
            raise Http404("no such file")
        return report_file_response(default_storage.open(match, "rb"), name)
