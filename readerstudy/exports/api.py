"""Statistician API: the READS, SCORES and clinical tables in each format, analysis runs and their report
files (permission-checked)."""

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils.text import slugify
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from readerstudy import audit
from readerstudy.analysis.segmentation_dice import dice_csv, dice_rows, dice_summary
from readerstudy.cases.serializers import ProblemSerializer
from readerstudy.studies.errors import ProtocolConflict, StudyError
from readerstudy.studies.models import ReaderStudy

from . import selectors, services
from .access import analysis_rights, export_rights
from .clinical import clinical_table
from .consent import consent_table
from .formats import FORMATS, MRMC_FORMATS, TABLE_FORMATS, WRITERS, media
from .froc_data import froc_data, scoring_of
from .model_reads import model_scores
from .models import AnalysisRun
from .reads import REVISIONS, reads_table
from .report_files import report_file_response
from .segmentation_archive import FORMATS as ARCHIVE_FORMATS
from .segmentation_archive import checked_segmentations, segmentations_zip
from .segmentations import dice_inputs, segmentation_seg
from .serializers import (
    AnalysisRequestSerializer,
    AnalysisRunSerializer,
    DiceReportSerializer,
    LocalizationScoringSerializer,
    ReadsQuerySerializer,
)
from .services import set_localization_scoring


def _rights_or_403(user, study, rule=export_rights):
    rights = rule(user, study)
    if not rights.allowed:
        raise PermissionDenied(rights.reason)
    return rights


def _download(data: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _revisions(request) -> str:
    query = ReadsQuerySerializer(data=request.query_params)
    if not query.is_valid():
        raise StudyError(
            "invalid_revisions",
            f"revisions must be one of {', '.join(REVISIONS)}, "
            f"not {request.query_params.get('revisions')!r}",
        )
    return query.validated_data["revisions"]


class StudyReadsDownloadApi(APIView):
    """GET /api/exports/studies/<id>/reads/<fmt>/ with fmt in csv, parquet, json, imrmc, mrmcaov;
    ``?revisions=all``: every answer revision (csv, parquet, json)."""

    @extend_schema(
        parameters=[ReadsQuerySerializer],
        responses={(200, "application/octet-stream"): bytes, 400: ProblemSerializer},
    )
    def get(self, request, pk: int, fmt: str):
        study = get_object_or_404(ReaderStudy, pk=pk)
        rights = _rights_or_403(request.user, study)
        if fmt not in WRITERS:
            raise StudyError(
                "unknown_format", f"unknown format {fmt!r}; choose one of {', '.join(WRITERS)}"
            )
        revisions = _revisions(request)
        if fmt in MRMC_FORMATS and revisions != "final":
            raise StudyError(
                "revisions_unsupported",
                f"{fmt} files hold the final reads; revisions=all is available as "
                f"{', '.join(TABLE_FORMATS)}",
            )
        if fmt in MRMC_FORMATS and not rights.with_truth:
            raise ProtocolConflict(
                "blinded",
                "MRMC formats need ground truth, which is withheld until the study closes",
            )
        frame = reads_table(study, with_truth=rights.with_truth, revisions=revisions)
        try:
            data = WRITERS[fmt](frame)
        except ValueError as exc:
            raise StudyError("export_failed", str(exc)) from None
        content_type, extension = media(fmt, frame)
        suffix = "-revisions" if revisions == "all" else ""
        audit.record(request.user, "export.download", study, table="reads", format=fmt)
        return _download(data, content_type, f"{slugify(study.title)}-reads{suffix}.{extension}")


def _table_download(request, pk: int, fmt: str, table: str, what: str, build) -> HttpResponse:
    """One study table as a file: ``build(study, rights)`` gives the frame, written in ``fmt``
    (csv, parquet, json), its download recorded in the audit trail."""
    study = get_object_or_404(ReaderStudy, pk=pk)
    rights = _rights_or_403(request.user, study)
    if fmt not in TABLE_FORMATS:
        raise StudyError(
            "unknown_format",
            f"unknown format {fmt!r} for {what}; choose one of {', '.join(TABLE_FORMATS)}",
        )
    frame = build(study, rights)
    content_type, extension = FORMATS[fmt]
    audit.record(request.user, "export.download", study, table=table, format=fmt)
    return _download(
        WRITERS[fmt](frame), content_type, f"{slugify(study.title)}-{table}.{extension}"
    )


class StudyScoresDownloadApi(APIView):
    """GET /api/exports/studies/<id>/scores/<fmt>/ (csv, parquet, json): the model's SCORES,
    truth under the same rules as READS."""

    @extend_schema(responses={(200, "application/octet-stream"): bytes, 400: ProblemSerializer})
    def get(self, request, pk: int, fmt: str):
        return _table_download(
            request, pk, fmt, "scores", "scores",
            lambda study, rights: model_scores(study, with_truth=rights.with_truth),
        )  # fmt: skip


class StudyClinicalDownloadApi(APIView):
    """GET /api/exports/studies/<id>/clinical/<fmt>/ (csv, parquet, json): one row per study
    case with its clinical variables (``etiology`` only with truth access)."""

    @extend_schema(responses={(200, "application/octet-stream"): bytes, 400: ProblemSerializer})
    def get(self, request, pk: int, fmt: str):
        return _table_download(
            request, pk, fmt, "clinical", "clinical data",
            lambda study, rights: clinical_table(study, with_truth=rights.with_truth),
        )  # fmt: skip


class StudyConsentDownloadApi(APIView):
    """GET /api/exports/studies/<id>/consent/<fmt>/ (csv, parquet, json): every reader's
    acceptance of a consent version (no truth)."""

    @extend_schema(responses={(200, "application/octet-stream"): bytes, 400: ProblemSerializer})
    def get(self, request, pk: int, fmt: str):
        return _table_download(
            request, pk, fmt, "consent", "consent", lambda study, rights: consent_table(study)
        )


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
        audit.record(request.user, "analysis.download", run, study=run.study, file=name)
        return report_file_response(default_storage.open(match, "rb"), name)


def _scoring_dict(study) -> dict:
    s = scoring_of(study)
    return {
        "criterion": s.criterion,
        "radius_mm": s.radius_mm,
        "use_lesion_radius": s.use_lesion_radius,
        "question_code": s.question_code,
    }


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class FrocWorkbookApi(APIView):
    """GET /api/exports/studies/<id>/froc/workbook/: the study's marks scored against its truth
    lesions as an RJafroc workbook (TRUTH, FP, TP sheets); it holds truth (the LL rows), so it
    needs analysis rights."""

    @extend_schema(responses={(200, XLSX): bytes, 409: ProblemSerializer})
    def get(self, request, pk: int):
        study = get_object_or_404(ReaderStudy, pk=pk)
        _rights_or_403(request.user, study, analysis_rights)
        data = froc_data(study)
        audit.record(request.user, "export.download", study, table="froc", format="xlsx")
        return _download(data.xlsx(), XLSX, f"{slugify(study.title)}-froc.xlsx")


class LocalizationScoringApi(APIView):
    """GET / PUT /api/exports/studies/<id>/froc/scoring/: the acceptance criterion (``mask``,
    ``distance`` within ``radius_mm``, ``roi_overlap``) and the marks question scored. PUT:
    coordinators and admins."""

    @extend_schema(responses={200: LocalizationScoringSerializer})
    def get(self, request, pk: int):
        study = get_object_or_404(ReaderStudy, pk=pk)
        _rights_or_403(request.user, study)
        return Response(LocalizationScoringSerializer(_scoring_dict(study)).data)

    @extend_schema(
        request=LocalizationScoringSerializer,
        responses={200: LocalizationScoringSerializer, 409: ProblemSerializer},
    )
    def put(self, request, pk: int):
        study = get_object_or_404(ReaderStudy, pk=pk)
        _rights_or_403(request.user, study)
        if not (request.user.is_coordinator or request.user.is_platform_admin):
            raise PermissionDenied("only coordinators set how marks are scored")
        body = LocalizationScoringSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        set_localization_scoring(study, user=request.user, fields=dict(body.validated_data))
        return Response(LocalizationScoringSerializer(_scoring_dict(study)).data)


class SegmentationDiceApi(APIView):
    """GET /api/exports/studies/<id>/segmentations/dice/<fmt>/ (csv or json): Dice of the
    reader segmentations (reader vs reader, reader vs itself across sessions/conditions, vs the
    model's mask, and vs truth when the caller may see it)."""

    @extend_schema(
        responses={(200, "text/csv"): bytes, (200, "application/json"): DiceReportSerializer}
    )
    def get(self, request, pk: int, fmt: str):
        study = get_object_or_404(ReaderStudy, pk=pk)
        rights = _rights_or_403(request.user, study)
        if fmt not in ("csv", "json"):
            raise StudyError("unknown_format", f"unknown format {fmt!r}; choose csv or json")
        segs, truth, model = dice_inputs(study, with_truth=rights.with_truth)
        rows = dice_rows(segs, truth, model)
        audit.record(request.user, "export.download", study, table="dice", format=fmt)
        if fmt == "csv":
            return _download(
                dice_csv(rows).encode(), "text/csv", f"{slugify(study.title)}-dice.csv"
            )
        summary = [{"comparison": k, **v} for k, v in dice_summary(rows).items()]
        return Response(DiceReportSerializer({"summary": summary, "rows": rows}).data)


class SegmentationSegApi(APIView):
    """GET /api/exports/studies/<id>/segmentations/<assignment id>/seg/: one read's
    segmentation as a binary DICOM SEG referencing the case's de-identified series."""

    @extend_schema(responses={(200, "application/dicom"): bytes})
    def get(self, request, pk: int, assignment_id: int):
        study = get_object_or_404(ReaderStudy, pk=pk)
        _rights_or_403(request.user, study)
        name, data = segmentation_seg(study, assignment_id)
        audit.record(request.user, "export.download", study, table="seg", format="dcm")
        return _download(data, "application/dicom", name)


class SegmentationArchiveApi(APIView):
    """GET /api/exports/studies/<id>/segmentations/archive/<fmt>/ (``seg`` or ``nifti``): every
    locked read's segmentation in one zip, as binary DICOM SEG files or the stored NIfTI masks,
    with ``manifest.csv`` (file, case, reader, session, condition, read, sha256, voxels);
    streamed. Same rights as the other exports (segmentations hold no truth)."""

    @extend_schema(
        responses={(200, "application/zip"): bytes, 400: ProblemSerializer, 409: ProblemSerializer}
    )
    def get(self, request, pk: int, fmt: str):
        study = get_object_or_404(ReaderStudy, pk=pk)
        _rights_or_403(request.user, study)
        if fmt not in ARCHIVE_FORMATS:
            raise StudyError(
                "unknown_format", f"unknown format {fmt!r}; choose {' or '.join(ARCHIVE_FORMATS)}"
            )
        segs = checked_segmentations(study)
        audit.record(
            request.user, "export.download", study, table="segmentations", format=fmt,
            reads=len(segs),
        )  # fmt: skip
        response = StreamingHttpResponse(
            segmentations_zip(segs, fmt), content_type="application/zip"
        )
        name = f"{slugify(study.title)}-segmentations-{fmt}.zip"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class StudyBundleDownloadApi(APIView):
    """GET /api/exports/studies/<id>/bundle/: the study bundle (docs/bundle.md) as a zip. It
    holds truth and the report, so it needs analysis rights (export rights and truth access)."""

    @extend_schema(
        responses={(200, "application/zip"): bytes, 400: ProblemSerializer, 403: ProblemSerializer}
    )
    def get(self, request, pk: int):
        study = get_object_or_404(ReaderStudy, pk=pk)
        rights = analysis_rights(request.user, study)
        if not rights.allowed:
            raise PermissionDenied(rights.reason)
        from .bundle_export import exported_file

        handle = exported_file(study, user=request.user)
        return FileResponse(
            handle,
            as_attachment=True,
            filename=f"{slugify(study.title)}-bundle.zip",
            content_type="application/zip",
        )
