"""Coordinator pages (server-rendered); every change goes through the services."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from readerstudy.accounts.decorators import coordinator_required
from readerstudy.cases.models import Collection
from readerstudy.panels.selectors import finished_panels

from . import selectors, services
from .condition_views import conditions_context
from .errors import StudyError
from .forms import AssistanceForm, CasePickForm, OpenStudyForm, ReaderPickForm, StudyCreateForm
from .models import ReaderStudy
from .practice_views import practice_setup
from .prediction_views import PredictionsImportForm
from .presets import PRESETS
from .truth_source import set_truth_source


def _guarded(action):
    """Run a service call; show its error message instead of a server error."""

    def run(request, *args, **kwargs):
        try:
            action(request, *args, **kwargs)
        except StudyError as exc:
            messages.error(request, exc.message)

    return run


@coordinator_required
def study_list(request):
    form = StudyCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            study = services.create_study(created_by=request.user, **form.cleaned_data)
        except StudyError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, f"Study “{study.title}” created (seed {study.randomization_seed})."
            )
            return redirect("study-detail", pk=study.pk)
    studies = selectors.studies_for_coordinator()
    return render(request, "studies/study_list.html", {"studies": studies, "form": form})


def _draft_forms(study) -> dict:
    config = study.assistance
    return {
        **conditions_context(study),
        "case_form": CasePickForm(
            initial={"cases": [sc.case_id for sc in study.study_cases.all()]}
        ),
        "collections": Collection.objects.filter(cases__isnull=False).distinct().order_by("name"),
        "reader_form": ReaderPickForm(
            initial={"readers": [r.user_id for r in study.readers.all()]}
        ),
        "open_form": OpenStudyForm(),
        "finished_panels": finished_panels(),
        "presets": list(PRESETS.items()),
        "predictions_form": PredictionsImportForm(),
        "assistance_form": AssistanceForm(
            initial={
                "model_version": config.model_version_id,
                "operating_point": config.operating_point,
                "show_probability": config.show_probability,
                "show_decision": config.show_decision,
                "show_mask_outline": config.show_mask_outline,
                "show_model_version": config.show_model_version,
                "heatmaps": config.heatmaps,
                "heatmap_opacity": config.heatmap_opacity,
            }
        ),
    }


@coordinator_required
def study_detail(request, pk: int):
    study = get_object_or_404(ReaderStudy, pk=pk)
    jobs = selectors.model_jobs(study)
    case_rows = selectors.case_rows(study)
    context = {
        "study": study,
        "progress": selectors.reader_progress(study),
        "inference": selectors.inference_progress(study),
        "jobs": jobs,
        "case_rows": case_rows,
        "primary_endpoint": selectors.primary_endpoint(study),
        "unlabelled": [row["code"] for row in case_rows if not row["labelled"]],
        "arms": study.arms.prefetch_related("schedule__session"),
        "practice": practice_setup(study),
    }
    if study.status == ReaderStudy.Status.DRAFT:
        context.update(_draft_forms(study))
    return render(request, "studies/study_detail.html", context)


@coordinator_required
def study_delete(request, pk: int):
    """A draft is deleted only after the coordinator confirms it on this page."""
    study = get_object_or_404(ReaderStudy, pk=pk)
    if request.method == "POST":
        try:
            services.delete_draft(study)
        except StudyError as exc:
            messages.error(request, exc.message)
            return redirect("study-detail", pk=study.pk)
        messages.success(request, f"Draft “{study.title}” deleted.")
        return redirect("study-list")
    return render(request, "studies/study_delete.html", {"study": study})


def _launch_inference(request, study):
    from readerstudy.ai.services import request_for_cases

    shown = selectors.maps_shown(study)
    if not shown:
        raise StudyError("no_model", "choose the model version in the assistance settings first")
    cases = [sc.case for sc in study.study_cases.select_related("case")]
    jobs = []
    # Only the explanations the study's conditions show: occlusion and SHAP cost most of a
    # job's time.
    for version, methods in shown.items():
        params = {"explain": methods}
        jobs += request_for_cases(cases, version, user=request.user, params=params)
    messages.info(request, f"{len(jobs)} inference jobs requested (existing results are reused).")


def _counted(what: str, added: int, removed: int) -> str:
    return f"{what}: {added} added, {removed} removed."


def _set_truth_source(study, panel: str, masks: str, user) -> str:
    if panel and not panel.isdigit():
        raise StudyError("bad_form", "choose a finished truth panel or imported labels")
    if masks not in ("keep", "replace"):
        raise StudyError("bad_form", "choose to keep or to replace the cases' truth masks")
    updated = set_truth_source(
        study, int(panel) if panel else None, replace_masks=masks == "replace", user=user
    )
    return f"Truth from {updated.truth_panel or 'imported labels'}."


@coordinator_required
@require_POST
def study_action(request, pk: int, action: str):
    study = get_object_or_404(ReaderStudy, pk=pk)

    def act(request):
        message = "Saved."
        if action == "cases":
            form = CasePickForm(request.POST)
            if not form.is_valid():
                raise StudyError("bad_form", f"invalid case selection: {form.errors.as_text()}")
            message = _counted("Cases", *services.set_cases(study, form.cleaned_data["cases"]))
        elif action == "readers":
            form = ReaderPickForm(request.POST)
            if not form.is_valid():
                raise StudyError("bad_form", f"invalid reader selection: {form.errors.as_text()}")
            message = _counted(
                "Readers", *services.set_readers(study, form.cleaned_data["readers"])
            )
        elif action == "remove-reader":
            reader = study.readers.filter(user_id=request.POST.get("user")).first()
            if reader is None:
                raise StudyError("not_enrolled", "that user is not a reader of this study")
            services.remove_reader(study, reader.user)
            message = f"{reader.user.username} removed from the study."
        elif action == "assistance":
            form = AssistanceForm(request.POST)
            if not form.is_valid():
                raise StudyError(
                    "bad_form", f"invalid assistance settings: {form.errors.as_text()}"
                )
            services.configure_assistance(study, **form.cleaned_data)
        elif action == "open":
            form = OpenStudyForm(request.POST)
            form.is_valid()
            services.open_study(
                study, truth_pending_allowed=form.cleaned_data.get("truth_pending_allowed", False)
            )
            message = "Study opened: the design is frozen."
        elif action == "close":
            services.close_study(study)
        elif action == "inference":
            _launch_inference(request, study)
        elif action == "grant":
            services.grant_statistician_access(study, True)
        elif action == "truth-source":
            message = _set_truth_source(
                study, request.POST.get("panel", ""), request.POST.get("masks", "keep"),
                request.user,
            )  # fmt: skip
        else:
            raise StudyError("unknown_action", f"unknown action {action!r}")
        messages.success(request, message)

    _guarded(act)(request)
    return redirect("study-detail", pk=study.pk)
