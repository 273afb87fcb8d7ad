"""Coordinator API for designing, opening and closing studies."""

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from readerstudy.accounts.permissions import IsCoordinator
from readerstudy.cases.models import Case

from . import selectors, services
from .errors import StudyError
from .models import ReaderStudy
from .serializers import (
    AssistanceSerializer,
    QuestionSerializer,
    StudyCreateSerializer,
    StudySerializer,
)


class CoordinatorView(APIView):
    permission_classes = [IsCoordinator]

    def study(self, pk) -> ReaderStudy:
        return get_object_or_404(ReaderStudy, pk=pk)


class Studies(CoordinatorView):
    @extend_schema(responses=StudySerializer(many=True))
    def get(self, request):
        return Response(StudySerializer(ReaderStudy.objects.all(), many=True).data)

    @extend_schema(request=StudyCreateSerializer, responses=StudySerializer)
    def post(self, request):
        data = StudyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        study = services.create_study(created_by=request.user, **data.validated_data)
        return Response(StudySerializer(study).data, status=status.HTTP_201_CREATED)


class StudyDetail(CoordinatorView):
    @extend_schema(responses=StudySerializer)
    def get(self, request, pk: int):
        return Response(StudySerializer(self.study(pk)).data)


class StudyCases(CoordinatorView):
    @extend_schema(request={"application/json": dict}, responses=StudySerializer)
    def post(self, request, pk: int):
        codes = request.data.get("case_codes")
        if not isinstance(codes, list) or not codes:
            raise StudyError("bad_request", "case_codes must be a non-empty list of case codes")
        cases = list(Case.objects.filter(code__in=codes))
        missing = sorted(set(codes) - {c.code for c in cases})
        if missing:
            raise StudyError("unknown_case", f"unknown case codes: {', '.join(missing[:20])}")
        services.add_cases(self.study(pk), cases)
        return Response(StudySerializer(self.study(pk)).data)


class StudyReaders(CoordinatorView):
    @extend_schema(request={"application/json": dict}, responses=StudySerializer)
    def post(self, request, pk: int):
        names = request.data.get("usernames")
        if not isinstance(names, list) or not names:
            raise StudyError("bad_request", "usernames must be a non-empty list")
        users = list(get_user_model().objects.filter(username__in=names))
        missing = sorted(set(names) - {u.username for u in users})
        if missing:
            raise StudyError("unknown_user", f"unknown users: {', '.join(missing)}")
        study = self.study(pk)
        for user in users:
            services.enroll_reader(study, user)
        return Response(StudySerializer(study).data)


class StudyQuestions(CoordinatorView):
    @extend_schema(request=QuestionSerializer(many=True), responses=QuestionSerializer(many=True))
    def put(self, request, pk: int):
        if not isinstance(request.data, list):
            raise StudyError("bad_request", "send a list of questions")
        questions = services.set_questions(self.study(pk), request.data)
        return Response(QuestionSerializer(questions, many=True).data)


class StudyAssistance(CoordinatorView):
    @extend_schema(request=AssistanceSerializer, responses=AssistanceSerializer)
    def patch(self, request, pk: int):
        study = self.study(pk)
        data = AssistanceSerializer(study.assistance, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        config = services.configure_assistance(study, **data.validated_data)
        return Response(AssistanceSerializer(config).data)


class StudyTransition(CoordinatorView):
    action = ""

    @extend_schema(request=None, responses=StudySerializer)
    def post(self, request, pk: int):
        study = self.study(pk)
        if self.action == "open":
            study = services.open_study(study)
        elif self.action == "close":
            study = services.close_study(study)
        elif self.action == "grant":
            study = services.grant_statistician_access(
                study, bool(request.data.get("granted", True))
            )
        return Response(StudySerializer(study).data)


class StudyProgress(CoordinatorView):
    @extend_schema(responses={200: dict})
    def get(self, request, pk: int):
        return Response(selectors.reader_progress(self.study(pk)))
