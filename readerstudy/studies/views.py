"""Coordinator pages (server-rendered); every change goes through the services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, user_passes_test
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import selectors, services
from .errors import StudyError
from .forms import AssistanceForm, CasePickForm, ReaderPickForm, StudyCreateForm
from .models import ReaderStudy

coordinator_required = user_passes_test(lambda u: u.is_authenticated and u.is_coordinator)


def _guarded(action):
    """Run a service call; show its error message instead of a server error."""

    def run(request, *args, **kwargs):
        try:
            action(request, *args, **kwargs)
        except StudyError as exc:
            messages.error(request, exc.message)

    return run


@login_required
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


@login_required
@coordinator_required
def study_detail(request, pk: int):
    study = get_object_or_404(ReaderStudy, pk=pk)
    config = study.assistance
    context = {
        "study": study,
        "progress": selectors.reader_progress(study),
        "inference": selectors.inference_progress(study),
        "case_form": CasePickForm(
            initial={"cases": [sc.case_id for sc in study.study_cases.all()]}
        ),
        "reader_form": ReaderPickForm(
            initial={"readers": [r.user_id for r in study.readers.all()]}
        ),
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
    return render(request, "studies/study_detail.html", context)


def _launch_inference(request, study):
    from readerstudy.ai.services import request_for_cases

    version = study.assistance.model_version
    if version is None:
        raise StudyError("no_model", "choose the model version in the assistance settings first")
    cases = [sc.case for sc in study.study_cases.select_related("case")]
    jobs = request_for_cases(cases, version, user=request.user)
    messages.info(request, f"{len(jobs)} inference jobs requested (existing results are reused).")


@login_required
@coordinator_required
@require_POST
def study_action(request, pk: int, action: str):
    study = get_object_or_404(ReaderStudy, pk=pk)

    def act(request):
        if action == "cases":
            form = CasePickForm(request.POST)
            if not form.is_valid():
                raise StudyError("bad_form", "choose at least one case")
            services.add_cases(study, form.cleaned_data["cases"])
        elif action == "readers":
            form = ReaderPickForm(request.POST)
            if not form.is_valid():
                raise StudyError("bad_form", "choose at least one reader")
            for user in form.cleaned_data["readers"]:
                services.enroll_reader(study, user)
        elif action == "assistance":
            form = AssistanceForm(request.POST)
            if not form.is_valid():
                raise StudyError(
                    "bad_form", f"invalid assistance settings: {form.errors.as_text()}"
                )
            services.configure_assistance(study, **form.cleaned_data)
        elif action == "open":
            services.open_study(study)
        elif action == "close":
            services.close_study(study)
        elif action == "inference":
            _launch_inference(request, study)
        elif action == "grant":
            services.grant_statistician_access(study, True)
        else:
            raise StudyError("unknown_action", f"unknown action {action!r}")
        messages.success(request, "Saved.")

    _guarded(act)(request)
    return redirect("study-detail", pk=study.pk)
