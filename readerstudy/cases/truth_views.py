"""Ground truth in the case library: the labels CSV upload and each case's truth (page and API).

Coordinators manage truth (they import it); readers and statisticians get 403.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from drf_spectacular.utils import extend_schema
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from readerstudy.accounts.decorators import coordinator_required
from readerstudy.accounts.permissions import IsCoordinator
from readerstudy.core.parsers import JSONParser

from .errors import LabelError, TruthInvalid
from .forms import LabelsUploadForm, TruthForm
from .selectors import library_case, truth_state
from .serializers import (
    LabelErrorsSerializer,
    LabelSummarySerializer,
    LabelsUploadSerializer,
    ProblemSerializer,
    TruthErrorsSerializer,
    TruthSerializer,
)
from .truth import set_truth, upload_labels
from .views import render_library


def _case_or_404(code: str):
    case = library_case(code)
    if case is None:
        raise Http404("no such case")
    return case


@coordinator_required
@require_POST
def labels_upload(request):
    form = LabelsUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return render_library(request, labels_form=form, status_code=400)
    try:
        summary = upload_labels(form.cleaned_data["file"], form.cleaned_data["kind"])
    except LabelError as exc:
        return render_library(request, labels_form=form, label_errors=exc.errors, status_code=400)
    messages.success(request, summary.message[0].upper() + summary.message[1:] + ".")
    return redirect("case-list")


@coordinator_required
def case_detail(request, code: str):
    case = _case_or_404(code)
    status_code = 200
    if request.method == "POST":
        form = TruthForm(request.POST)
        if form.is_valid():
            try:
                set_truth(case, form.cleaned_data["row"], source="case page")
            except TruthInvalid as exc:  # checked by the form already; kept for safety
                for column, message in exc.problems:
                    form.add_error(column if column in form.fields else None, message)
            else:
                messages.success(request, f"Ground truth of {case.code} saved.")
                return redirect("case-detail", code=case.code)
        status_code = 400
    else:
        form = TruthForm(initial=TruthForm.initial_for(truth_state(case)))
    context = {
        "case": case,
        "series": case.primary_series,
        "truth": truth_state(case),
        "form": form,
    }
    return render(request, "cases/case_detail.html", context, status=status_code)


class LabelsApi(APIView):
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
            return Response(
                {"code": "invalid_request", "detail": "send the CSV as 'file'",
                 "errors": [f"{k}: {' '.join(map(str, v))}" for k, v in data.errors.items()]},
                status=400,
            )  # fmt: skip
        kind = data.validated_data["kind"]
        try:
            summary = upload_labels(data.validated_data["file"], kind)
        except LabelError as exc:
            return Response(
                {"code": exc.code, "detail": exc.message, "errors": exc.errors}, status=400
            )
        body = {
            "kind": kind,
            "cases": summary.cases,
            "created": summary.created,
            "updated": summary.updated,
            "detail": summary.message,
        }
        return Response(LabelSummarySerializer(body).data)


class CaseTruthApi(APIView):
    """GET a case's ground truth; PUT replaces it (the labels CSV's rules, stored atomically)."""

    permission_classes = [IsCoordinator]
    parser_classes = [JSONParser]

    @extend_schema(responses={200: TruthSerializer, 404: ProblemSerializer})
    def get(self, request, code: str):
        case = library_case(code)
        if case is None:
            return Response({"code": "not_found", "detail": "no such case"}, status=404)
        return Response(TruthSerializer(truth_state(case)).data)

    @extend_schema(
        request=TruthSerializer,
        responses={200: TruthSerializer, 400: TruthErrorsSerializer, 404: ProblemSerializer},
    )
    def put(self, request, code: str):
        case = library_case(code)
        if case is None:
            return Response({"code": "not_found", "detail": "no such case"}, status=404)
        data = TruthSerializer(data=request.data)
        if not data.is_valid():
            return Response(
                {"code": "invalid_truth", "detail": "the truth values cannot be stored",
                 "errors": data.errors},
                status=400,
            )  # fmt: skip
        set_truth(case, data.validated_data["row"], source="api")
        return Response(TruthSerializer(truth_state(library_case(code))).data)
