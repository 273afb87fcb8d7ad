"""Coordinator pages that edit a draft's questions and endpoints and apply presets.

Plain forms posting to these views; every change goes through ``editing`` / ``services``, which
refuse anything but a draft. A refused change re-renders its form with the reason (400).
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from readerstudy.accounts.decorators import coordinator_required

from . import editing, services
from .editor_forms import (
    EndpointForm,
    LabelRowFormSet,
    MarksSettingsForm,
    QuestionForm,
    label_rows,
    marks_initial,
    question_initial,
)
from .errors import StudyError
from .models import QuestionType, ReaderStudy
from .selectors import endpoint_specs, question_specs


def _detail(study, anchor: str):
    return redirect(f"{reverse('study-detail', args=[study.pk])}#{anchor}")


def _study_if_draft(request, pk: int):
    """(study, editable): not editable once opened, after telling the coordinator why."""
    study = get_object_or_404(ReaderStudy, pk=pk)
    if study.is_frozen:
        messages.error(request, f"The study is {study.status}: its design can no longer change.")
        return study, False
    return study, True


def _find(specs: list[dict], code: str) -> tuple[int, dict]:
    for i, spec in enumerate(specs):
        if spec["code"] == code:
            return i, spec
    raise Http404(f"no item {code!r}")


def _edit_page(request, study, template, *, form, rows, item, status=200, **extra):
    context = {"study": study, "form": form, "rows": rows, "item": item, **extra}
    return render(request, template, context, status=status)


def _submit(request, study, form, rows, save, settings=None) -> str | None:
    """Validate the form and its rows and ``save(spec)``; the refusal shown, or None if saved.

    ``settings``: a question's marks settings form, checked and stored as its ``config`` when
    the question is a ``marks`` question (every other type has no config)."""
    valid = form.is_valid() & rows.is_valid()
    marks = settings is not None and form.cleaned_data.get("type") == QuestionType.MARKS
    if marks:
        valid &= settings.is_valid()
    if not valid:
        return "Please correct the fields marked below."
    spec = form.spec(label_rows(rows))
    if marks:
        spec["config"] = settings.config()
    try:
        save(spec)
    except StudyError as exc:
        form.add_error(None, f"[{exc.code}] {exc.message}")
        return exc.message
    return None


def _question_page(request, pk: int, code: str | None):
    study, editable = _study_if_draft(request, pk)
    if not editable:
        return redirect("study-detail", pk=study.pk)
    specs = question_specs(study)
    index, spec = _find(specs, code) if code else (len(specs), {})
    earlier = specs[:index]
    if request.method == "POST":
        form = QuestionForm(request.POST, earlier=earlier)
        rows = LabelRowFormSet(request.POST, prefix="options")
        settings = MarksSettingsForm(request.POST, prefix="marks")
        refused = _submit(
            request, study, form, rows,
            lambda new: editing.save_question(study, new, replacing=code), settings,
        )  # fmt: skip
        if refused is None:
            messages.success(request, f"Question “{form.cleaned_data['code']}” saved.")
            return _detail(study, "study-questions")
        status = 400
    else:
        initial = question_initial(spec) if spec else None
        form = QuestionForm(initial=initial, earlier=earlier)
        rows = LabelRowFormSet(initial=spec.get("options") or None, prefix="options")
        settings = MarksSettingsForm(initial=marks_initial(spec), prefix="marks")
        status = 200
    template = "studies/question_form.html"
    return _edit_page(
        request, study, template, form=form, rows=rows, item=code, status=status,
        marks_form=settings,
    )  # fmt: skip


@coordinator_required
def question_new(request, pk: int):
    return _question_page(request, pk, None)


@coordinator_required
def question_edit(request, pk: int, code: str):
    return _question_page(request, pk, code)


def _endpoint_page(request, pk: int, code: str | None):
    study, editable = _study_if_draft(request, pk)
    if not editable:
        return redirect("study-detail", pk=study.pk)
    questions = question_specs(study)
    spec = _find(endpoint_specs(study), code)[1] if code else {}
    if request.method == "POST":
        form = EndpointForm(request.POST, questions=questions)
        rows = LabelRowFormSet(request.POST, prefix="labels")
        refused = _submit(
            request, study, form, rows,
            lambda new: editing.save_endpoint(study, new, replacing=code),
        )  # fmt: skip
        if refused is None:
            messages.success(request, f"Endpoint “{form.cleaned_data['code']}” saved.")
            return _detail(study, "study-endpoints")
        status = 400
    else:
        form = EndpointForm(initial=spec or None, questions=questions)
        rows = LabelRowFormSet(initial=spec.get("labels") or None, prefix="labels")
        status = 200
    template = "studies/endpoint_form.html"
    return _edit_page(request, study, template, form=form, rows=rows, item=code, status=status)


@coordinator_required
def endpoint_new(request, pk: int):
    return _endpoint_page(request, pk, None)


@coordinator_required
def endpoint_edit(request, pk: int, code: str):
    return _endpoint_page(request, pk, code)


def _act(request, study, anchor: str, action, done: str):
    try:
        action()
    except StudyError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return _detail(study, anchor)


@coordinator_required
@require_POST
def question_delete(request, pk: int, code: str):
    study = get_object_or_404(ReaderStudy, pk=pk)
    return _act(
        request, study, "study-questions",
        lambda: editing.delete_question(study, code), f"Question “{code}” deleted.",
    )  # fmt: skip


@coordinator_required
@require_POST
def question_move(request, pk: int, code: str):
    study = get_object_or_404(ReaderStudy, pk=pk)
    offset = -1 if request.POST.get("direction") == "up" else 1
    return _act(
        request, study, "study-questions",
        lambda: editing.move_question(study, code, offset), f"Question “{code}” moved.",
    )  # fmt: skip


@coordinator_required
@require_POST
def endpoint_delete(request, pk: int, code: str):
    study = get_object_or_404(ReaderStudy, pk=pk)
    return _act(
        request, study, "study-endpoints",
        lambda: editing.delete_endpoint(study, code), f"Endpoint “{code}” deleted.",
    )  # fmt: skip


@coordinator_required
def preset_apply(request, pk: int):
    """Confirm (GET ?preset=code), then replace the draft's questions and endpoints (POST)."""
    from .presets import PRESETS

    study, editable = _study_if_draft(request, pk)
    code = request.POST.get("preset") or request.GET.get("preset") or ""
    preset = PRESETS.get(code)
    if not editable:
        return redirect("study-detail", pk=study.pk)
    if preset is None:
        messages.error(request, f"Unknown preset {code!r}.")
        return _detail(study, "study-preset")
    if request.method == "POST":
        return _act(
            request, study, "study-questions",
            lambda: services.apply_preset(study, code),
            f"Questions and endpoints replaced with the preset “{preset.name}”.",
        )  # fmt: skip
    context = {"study": study, "code": code, "preset": preset}
    return render(request, "studies/preset_confirm.html", context)
