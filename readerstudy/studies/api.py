"""Coordinator API for designing, opening and closing studies."""

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from readerstudy.accounts.permissions import IsCoordinator
from readerstudy.cases.models import Case

from . import conditions, selectors, services
from .condition_serializers import (
    AssistancePatchSerializer,
    ConditionInputSerializer,
    StudyCreateWithConditionsSerializer,
    condition_list,
)
from .errors import StudyError
from .models import ReaderStudy
from .serializers import (
    MAX_ENDPOINTS,
    MAX_QUESTIONS,
    AssistanceSerializer,
    CaseCodesSerializer,
    ConditionSerializer,
    EndpointInputSerializer,
    EndpointSerializer,
    GrantSerializer,
    OpenSerializer,
    PresetSerializer,
    QuestionInputSerializer,
    QuestionSerializer,
    ReaderProgressSerializer,
    StudySerializer,
    UsernamesSerializer,
)


class CoordinatorBaseApi(APIView):
    permission_classes = [IsCoordinator]

    def study(self, pk) -> ReaderStudy:
        return get_object_or_404(ReaderStudy, pk=pk)


class StudyListApi(CoordinatorBaseApi):
    @extend_schema(responses=StudySerializer(many=True))
    def get(self, request):
        return Response(StudySerializer(ReaderStudy.objects.all(), many=True).data)

    @extend_schema(request=StudyCreateWithConditionsSerializer, responses={201: StudySerializer})
    def post(self, request):
        data = StudyCreateWithConditionsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        study = services.create_study(created_by=request.user, **data.validated_data)
        return Response(StudySerializer(study).data, status=status.HTTP_201_CREATED)


class StudyDetailApi(CoordinatorBaseApi):
    @extend_schema(responses=StudySerializer)
    def get(self, request, pk: int):
        return Response(StudySerializer(self.study(pk)).data)


class StudyCasesApi(CoordinatorBaseApi):
    @extend_schema(request=CaseCodesSerializer, responses=StudySerializer)
    def post(self, request, pk: int):
        data = CaseCodesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        codes = data.validated_data["case_codes"]
        cases = list(Case.objects.filter(code__in=codes))
        missing = sorted(set(codes) - {c.code for c in cases})
        if missing:
            raise StudyError("unknown_case", f"unknown case codes: {', '.join(missing[:20])}")
        services.add_cases(self.study(pk), cases)
        return Response(StudySerializer(self.study(pk)).data)


class StudyReadersApi(CoordinatorBaseApi):
    @extend_schema(request=UsernamesSerializer, responses=StudySerializer)
    def post(self, request, pk: int):
        data = UsernamesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        names = data.validated_data["usernames"]
        users = list(get_user_model().objects.filter(username__in=names))
        missing = sorted(set(names) - {u.username for u in users})
        if missing:
            raise StudyError("unknown_user", f"unknown users: {', '.join(missing[:20])}")
        study = self.study(pk)
        for user in users:
            services.enroll_reader(study, user)
        return Response(StudySerializer(study).data)


class StudyQuestionsApi(CoordinatorBaseApi):
    @extend_schema(
        request=QuestionInputSerializer(many=True), responses=QuestionSerializer(many=True)
    )
    def put(self, request, pk: int):
        data = QuestionInputSerializer(  # type: ignore[call-arg]  # many=True takes max_length
            data=request.data, many=True, allow_empty=False, max_length=MAX_QUESTIONS
        )
        data.is_valid(raise_exception=True)
        questions = services.set_questions(self.study(pk), data.validated_data)
        return Response(QuestionSerializer(questions, many=True).data)


class StudyEndpointsApi(CoordinatorBaseApi):
    """Replace a draft's endpoints (their questions named by code; exactly one primary)."""

    @extend_schema(
        request=EndpointInputSerializer(many=True), responses=EndpointSerializer(many=True)
    )
    def put(self, request, pk: int):
        data = EndpointInputSerializer(  # type: ignore[call-arg]  # many=True takes max_length
            data=request.data, many=True, allow_empty=False, max_length=MAX_ENDPOINTS
        )
        data.is_valid(raise_exception=True)
        endpoints = services.set_endpoints(self.study(pk), data.validated_data)
        return Response(EndpointSerializer(endpoints, many=True).data)


class StudyPresetApi(CoordinatorBaseApi):
    """Replace a draft's questions and endpoints with those of a preset."""

    @extend_schema(request=PresetSerializer, responses=StudySerializer)
    def post(self, request, pk: int):
        data = PresetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        study = services.apply_preset(self.study(pk), data.validated_data["preset"])
        return Response(StudySerializer(study).data)


class StudyAssistanceApi(CoordinatorBaseApi):
    """Change the assistance settings of one aided condition of a draft (``condition``; it may
    be left out where the study has only one)."""

    @extend_schema(request=AssistancePatchSerializer, responses=AssistanceSerializer)
    def patch(self, request, pk: int):
        study = self.study(pk)
        data = AssistancePatchSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        config = services.configure_assistance(study, fields.pop("condition", None), **fields)
        return Response(AssistanceSerializer(config).data)


class StudyConditionsApi(CoordinatorBaseApi):
    """Replace a draft's conditions, in their order (``unaided`` first where present); a kept
    code keeps its assistance settings, which ``assistance`` changes."""

    @extend_schema(
        request=ConditionInputSerializer(many=True), responses=ConditionSerializer(many=True)
    )
    def put(self, request, pk: int):
        data = condition_list(request.data)
        data.is_valid(raise_exception=True)
        rows = conditions.set_conditions(self.study(pk), data.validated_data)
        return Response(ConditionSerializer(rows, many=True).data)


class StudyOpenApi(CoordinatorBaseApi):
    """Open a draft; refused (409, naming the cases) while cases lack truth for the endpoint,
    unless ``truth_pending_allowed`` says the truth will be added later."""

    @extend_schema(request=OpenSerializer, responses=StudySerializer)
    def post(self, request, pk: int):
        data = OpenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        study = services.open_study(
            self.study(pk), truth_pending_allowed=data.validated_data["truth_pending_allowed"]
        )
        return Response(StudySerializer(study).data)


class StudyCloseApi(CoordinatorBaseApi):
    @extend_schema(request=None, responses=StudySerializer)
    def post(self, request, pk: int):
        return Response(StudySerializer(services.close_study(self.study(pk))).data)


class StudyGrantApi(CoordinatorBaseApi):
    """Grant (or with ``granted: false`` revoke) statisticians' access before closing."""

    @extend_schema(request=GrantSerializer, responses=StudySerializer)
    def post(self, request, pk: int):
        data = GrantSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        study = services.grant_statistician_access(self.study(pk), data.validated_data["granted"])
        return Response(StudySerializer(study).data)


class StudyProgressApi(CoordinatorBaseApi):
    @extend_schema(
        operation_id="studies_progress_retrieve", responses=ReaderProgressSerializer(many=True)
    )
    def get(self, request, pk: int):
        rows = selectors.reader_progress(self.study(pk))
        return Response(ReaderProgressSerializer(rows, many=True).data)
