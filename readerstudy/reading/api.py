"""The reading API: worklist, next, start, autosave, submit, lock, the gated assistance, and
the study's consent."""

import gzip
import json

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import status
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from readerstudy.accounts.permissions import IsReader
from readerstudy.ai.outputs import read_volume
from readerstudy.cases.serializers import ProblemSerializer
from readerstudy.studies.errors import NotAvailable

from . import assistance, consent, practice_services, selectors, services
from .assistance_serializers import AssistancePayloadSerializer
from .consent_serializers import ConsentAcceptSerializer, ConsentStateSerializer
from .practice_serializers import (
    PracticeFeedbackSerializer,
    PracticeStateSerializer,
    PracticeSubmitInputSerializer,
    PracticeSubmitResultSerializer,
)
from .segmentation_serializers import SegmentationSerializer, SegmentationUploadQuerySerializer
from .segmentations import NIFTI, RAW
from .serializers import (
    AnswerInputSerializer,
    AssignmentDetailSerializer,
    AssignmentListSerializer,
    NextAssignmentSerializer,
    ReadingStudySerializer,
    RevisionSerializer,
    SubmitInputSerializer,
    SubmitResultSerializer,
    WorklistQuerySerializer,
    WorkspaceSerializer,
)


class ReaderBaseApi(APIView):
    permission_classes = [IsReader]

    def assignment_or_404(self, request, pk, **options):
        assignment = selectors.get_my_assignment(request.user, pk, **options)
        if assignment is None:
            raise NotAvailable("not_found", "no such assignment")
        return assignment


class ReadingStudyListApi(ReaderBaseApi):
    @extend_schema(
        operation_id="reading_studies_retrieve", responses=ReadingStudySerializer(many=True)
    )
    def get(self, request):
        studies = selectors.my_study_progress(request.user)
        return Response(ReadingStudySerializer(studies, many=True).data)


class AssignmentNextApi(ReaderBaseApi):
    @extend_schema(responses=NextAssignmentSerializer)
    def get(self, request, study_id: int):
        assignment, reason = selectors.next_assignment(request.user, study_id)
        body = {"assignment": assignment, "blocked_reason": reason, "done": assignment is None}
        return Response(NextAssignmentSerializer(body).data)


class AssignmentListApi(ReaderBaseApi):
    @extend_schema(
        parameters=[WorklistQuerySerializer], responses=AssignmentListSerializer(many=True)
    )
    def get(self, request):
        query = WorklistQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        qs = selectors.my_assignments(request.user, query.validated_data.get("study"))
        return Response(AssignmentListSerializer(qs, many=True).data)


class AssignmentDetailApi(ReaderBaseApi):
    @extend_schema(responses=AssignmentDetailSerializer)
    def get(self, request, pk: int):
        assignment = self.assignment_or_404(request, pk, with_images=True)
        return Response(AssignmentDetailSerializer(assignment).data)


class AssignmentStartApi(ReaderBaseApi):
    """Start (or resume) a read; answers with everything the reading page needs to show it."""

    @extend_schema(request=None, responses=WorkspaceSerializer)
    def post(self, request, pk: int):
        assignment = services.start(request.user, pk)
        revisions = selectors.revisions_of(assignment)
        context = {
            "revisions": revisions,
            "prefill": selectors.prefill_answers(assignment, revisions),
        }
        return Response(WorkspaceSerializer(assignment, context=context).data)


class AssignmentDraftApi(ReaderBaseApi):
    @extend_schema(request=AnswerInputSerializer, responses=RevisionSerializer)
    def put(self, request, pk: int):
        data = AnswerInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        revision = services.save_draft(
            request.user,
            pk,
            data.validated_data["answers"],
            active_ms=data.validated_data.get("active_ms"),
        )
        return Response(RevisionSerializer(revision).data)


class AssignmentSubmitApi(ReaderBaseApi):
    @extend_schema(
        request=SubmitInputSerializer,
        responses={200: SubmitResultSerializer, 201: SubmitResultSerializer},
    )
    def post(self, request, pk: int):
        data = SubmitInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        result = services.submit(
            request.user, pk, v["answers"], client_request_id=v["client_request_id"],
            active_ms=v.get("active_ms"), lock=v["lock"],
        )  # fmt: skip
        body = SubmitResultSerializer(result.revision, context={"created": result.created}).data
        return Response(
            body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        )


class AssignmentLockApi(ReaderBaseApi):
    @extend_schema(request=None, responses=RevisionSerializer)
    def post(self, request, pk: int):
        return Response(RevisionSerializer(services.lock(request.user, pk)).data)


class AssignmentRevisionsApi(ReaderBaseApi):
    @extend_schema(responses=RevisionSerializer(many=True))
    def get(self, request, pk: int):
        revisions = selectors.my_revisions(request.user, pk)
        if revisions is None:
            raise NotAvailable("not_found", "no such assignment")
        return Response(RevisionSerializer(revisions, many=True).data)


def _assistance_url(
    kind: str, assignment_id: int, method: str | None = None, label: str | None = None
) -> str:
    if kind == "mask":
        return reverse("reading-assistance-mask", args=[assignment_id])
    if kind == "truth_mask":
        return reverse("reading-assistance-truth-mask", args=[assignment_id])
    return reverse("reading-assistance-heatmap-label", args=[assignment_id, method, label])


class AssignmentAssistanceApi(ReaderBaseApi):
    @extend_schema(responses=AssistancePayloadSerializer)
    def get(self, request, pk: int):
        payload = assistance.assistance_payload(request.user, pk, url_for=_assistance_url)
        return Response(AssistancePayloadSerializer(payload).data)


def _overlay_response(descriptor: dict, data: bytes) -> HttpResponse:
    response = HttpResponse(data, content_type="application/octet-stream")
    response["X-Overlay"] = json.dumps(descriptor)
    response["Cache-Control"] = "private, no-store"
    return response


class AssignmentHeatmapApi(ReaderBaseApi):
    """A heatmap overlay of the model's positive label (the route before per-label maps)."""

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request, pk: int, method: str):
        return _overlay_response(*assistance.assistance_volume(request.user, pk, "heatmap", method))


class AssignmentLabelHeatmapApi(ReaderBaseApi):
    """A heatmap overlay of one model label (or class)."""

    @extend_schema(
        operation_id="reading_assignments_assistance_heatmaps_label_retrieve",
        responses={(200, "application/octet-stream"): bytes},
    )
    def get(self, request, pk: int, method: str, label: str):
        return _overlay_response(
            *assistance.assistance_volume(request.user, pk, "heatmap", method, label)
        )


class AssignmentTruthMaskApi(ReaderBaseApi):
    """The case's ground-truth mask for the side-by-side view, where the condition allows it."""

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request, pk: int):
        return _overlay_response(*assistance.assistance_volume(request.user, pk, "truth_mask"))


class AssignmentMaskApi(ReaderBaseApi):
    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request, pk: int):
        return _overlay_response(*assistance.assistance_volume(request.user, pk, "mask"))


def _my_study(user, study_id: int):
    study = selectors.my_studies(user).filter(pk=study_id).first()
    if study is None:
        raise NotAvailable("not_found", "no such study")
    return study


class ReadingConsentApi(ReaderBaseApi):
    """The study's consent as the reader is asked it, and the acceptance of its current version."""

    @extend_schema(responses={200: ConsentStateSerializer, 404: ProblemSerializer})
    def get(self, request, study_id: int):
        state = consent.consent_state(request.user, _my_study(request.user, study_id))
        return Response(ConsentStateSerializer(state).data)

    @extend_schema(
        request=ConsentAcceptSerializer,
        responses={
            200: ConsentStateSerializer,
            201: ConsentStateSerializer,
            409: ProblemSerializer,
        },
    )
    def post(self, request, study_id: int):
        body = ConsentAcceptSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        state, created = consent.accept(
            request.user, _my_study(request.user, study_id), body.validated_data["version"]
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(ConsentStateSerializer(state).data, status=code)


# --- a reader's segmentation uploads and the masks read back (to restore the viewer) ---
class _MaskParser(BaseParser):
    """Leaves the body as it came (the service reads and checks it)."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read() if stream is not None else b""


def _segmentation_url(segmentation) -> str:
    return reverse("reading-segmentation", args=[segmentation.assignment_id, segmentation.sha256])


class AssignmentSegmentationUploadApi(ReaderBaseApi):
    parser_classes = [_MaskParser]

    @extend_schema(
        parameters=[SegmentationUploadQuerySerializer],
        request={RAW: OpenApiTypes.BINARY, NIFTI: OpenApiTypes.BINARY},
        responses={201: SegmentationSerializer},
    )
    def post(self, request, pk: int):
        query = SegmentationUploadQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        content_type = (request.content_type or "").split(";")[0].strip()
        segmentation = services.upload_segmentation(
            request.user, pk, query.validated_data["question"], request.data or b"",
            content_type, query.validated_data.get("shape"),
        )  # fmt: skip
        body = SegmentationSerializer(segmentation, context={"url": _segmentation_url}).data
        return Response(body, status=status.HTTP_201_CREATED)


class AssignmentSegmentationApi(ReaderBaseApi):
    """The mask as raw uint8 (0/1, slices x rows x columns, gzip); its shape in X-Overlay."""

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request, pk: int, sha256: str):
        segmentation = selectors.my_segmentation(request.user, pk, sha256)
        if segmentation is None:
            raise NotAvailable("not_found", "no such segmentation")
        array = (read_volume(segmentation.file).array > 0).astype("uint8")
        response = HttpResponse(
            gzip.compress(array.tobytes(), compresslevel=1, mtime=0),
            content_type="application/octet-stream",
        )
        response["Content-Encoding"] = "gzip"
        response["X-Overlay"] = json.dumps(
            {"method": "segmentation", "shape": list(array.shape), "range": [0, 1]}
        )
        response["Cache-Control"] = "private, no-store"
        return response


class PracticeStateApi(ReaderBaseApi):
    """Where the reader stands in the study's practice, with the next practice read."""

    @extend_schema(responses={200: PracticeStateSerializer, 404: ProblemSerializer})
    def get(self, request, study_id: int):
        state = practice_services.my_practice(request.user, study_id)
        return Response(PracticeStateSerializer(state).data)


class PracticeAnswerApi(ReaderBaseApi):
    """Submit the next practice read; answered with its feedback and the new state."""

    @extend_schema(
        request=PracticeSubmitInputSerializer,
        responses={
            200: PracticeSubmitResultSerializer,
            201: PracticeSubmitResultSerializer,
            409: ProblemSerializer,
        },
    )
    def post(self, request, study_id: int):
        body = PracticeSubmitInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        v = body.validated_data
        result = practice_services.submit(
            request.user, study_id, practice_case_id=v["practice_case"],
            condition=v["condition"], answers=v["answers"],
            client_request_id=v["client_request_id"], active_ms=v.get("active_ms"),
        )  # fmt: skip
        data = PracticeSubmitResultSerializer(
            {"answer": result.answer, "created": result.created,
             "feedback": result.feedback, "state": result.state}
        ).data  # fmt: skip
        return Response(data, status=status.HTTP_201_CREATED if result.created else 200)


class PracticeFeedbackApi(ReaderBaseApi):
    """Feedback on a practice case the reader has answered (in the current attempt)."""

    @extend_schema(responses={200: PracticeFeedbackSerializer, 404: ProblemSerializer})
    def get(self, request, study_id: int, practice_case_id: int):
        state = practice_services.my_practice(request.user, study_id)
        body = practice_services.case_feedback(state, practice_case_id)
        return Response(PracticeFeedbackSerializer(body).data)


class PracticeHeatmapApi(ReaderBaseApi):
    """A heatmap overlay of a practice case, as the aided view's (after its unaided answer)."""

    @extend_schema(
        operation_id="reading_studies_practice_cases_heatmaps_retrieve",
        responses={(200, "application/octet-stream"): bytes, 404: ProblemSerializer},
    )
    def get(self, request, study_id: int, practice_case_id: int, method: str, label: str):
        return _overlay_response(
            *practice_services.case_heatmap(request.user, study_id, practice_case_id, method, label)
        )


class PracticeFinishApi(ReaderBaseApi):
    """Go on to the study's reads: skip an optional practice or record a passed attempt."""

    @extend_schema(request=None, responses={200: PracticeStateSerializer, 409: ProblemSerializer})
    def post(self, request, study_id: int):
        state = practice_services.finish(request.user, study_id)
        return Response(PracticeStateSerializer(state).data)
