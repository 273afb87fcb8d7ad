"""Export and analysis pages (permission-checked); their API is in ``api``."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from readerstudy.studies.errors import StudyError
from readerstudy.studies.models import Question, QuestionType, ReaderStudy

from . import selectors, services
from .access import analysis_rights, export_rights
from .formats import TABLE_FORMATS, WRITERS
from .models import AnalysisRun
from .report_files import is_inline


@login_required
def export_list(request):
    studies = [
        (study, export_rights(request.user, study))
        for study in ReaderStudy.objects.exclude(status=ReaderStudy.Status.DRAFT).order_by(
            "-created_at"
        )
    ]
    visible = [(s, r) for s, r in studies if r.allowed]
    marks = Question.objects.filter(type=QuestionType.MARKS, study__in=[s for s, _ in visible])
    return render(
        request,
        "exports/export_list.html",
        {
            "studies": visible,
            "formats": list(WRITERS),
            "table_formats": list(TABLE_FORMATS),
            "froc_studies": set(marks.values_list("study_id", flat=True)),
        },
    )


def _page_rights(request, study, rule=export_rights):
    rights = rule(request.user, study)
    if not rights.allowed:
        raise Http404("no such study")
    return rights


@login_required
def analysis_request(request, pk: int):
    from django.contrib import messages
    from django.shortcuts import redirect

    study = get_object_or_404(ReaderStudy, pk=pk)
    rights = _page_rights(request, study, analysis_rights)
    if request.method == "POST":
        try:
            options: dict = {"froc": {}} if request.POST.get("kind") == "froc" else {}
            run = services.request_analysis(
                study, user=request.user, with_truth=rights.with_truth, options=options
            )
        except StudyError as exc:
            messages.error(request, exc.message)
            return redirect("export-list")
        return redirect("analysis-page", run_id=run.pk)
    return redirect("export-list")


@login_required
def analysis_page(request, run_id):
    from django.urls import reverse

    run = get_object_or_404(AnalysisRun.objects.select_related("study"), pk=run_id)
    _page_rights(request, run.study, analysis_rights)
    files = [
        {
            "name": name,
            "url": reverse("export-analysis-file", args=[run.pk, name]),
            "inline": is_inline(name),
        }
        for name in selectors.run_file_names(run)
    ]
    report = next((f for f in files if f["name"] == "report.html"), None)
    return render(request, "exports/analysis.html", {"run": run, "files": files, "report": report})
