"""Export and analysis pages (permission-checked); their API is in ``api``."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
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


def _dice_summary(study, rights, segs) -> list[dict]:
    from readerstudy.analysis.segmentation_dice import dice_rows, dice_summary

    from .segmentations import dice_inputs

    if not segs:
        return []
    rows = dice_rows(*dice_inputs(study, with_truth=rights.with_truth))
    return [{"comparison": k, **v} for k, v in dice_summary(rows).items()]


@login_required
def study_marks(request, pk: int):
    """A marks study's lesion-mark page: how marks are scored (coordinators change it), the
    reader segmentations as zips, their Dice table and how to get their features' ICC."""
    from django.contrib import messages
    from django.shortcuts import redirect

    from .forms import LocalizationScoringForm
    from .froc_data import scoring_of
    from .segmentation_archive import checked_segmentations

    study = get_object_or_404(ReaderStudy, pk=pk)
    rights = _page_rights(request, study)
    if not study.questions.filter(type=QuestionType.MARKS).exists():
        raise Http404("this study has no marks question")
    may_edit = request.user.is_coordinator or request.user.is_platform_admin
    scoring = scoring_of(study)
    form = LocalizationScoringForm(instance=scoring, study=study)
    status = 200
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied("only coordinators set how marks are scored")
        form = LocalizationScoringForm(request.POST, instance=scoring, study=study)
        if form.is_valid():
            fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
            try:
                services.set_localization_scoring(study, user=request.user, fields=fields)
            except StudyError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "How lesion marks are scored is saved.")
                return redirect("export-marks", pk=study.pk)
        status = 400
    try:
        segs = checked_segmentations(study)
        seg_problem = ""
    except StudyError as exc:
        segs, seg_problem = [], exc.message
    context = {
        "study": study,
        "rights": rights,
        "form": form,
        "may_edit": may_edit,
        "scoring": scoring,
        "segs": segs,
        "readers": sorted({s.assignment.reader.user.username for s in segs}),
        "seg_problem": seg_problem,
        "dice": _dice_summary(study, rights, segs),
    }
    return render(request, "exports/study_marks.html", context, status=status)
