"""Coordinator page actions on a draft's conditions: add an aided condition, edit it, remove
it, move it up or down. Each posts a plain form and goes back to the conditions section; every
change goes through :mod:`.conditions`, which refuses anything but a draft."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from readerstudy.accounts.decorators import coordinator_required

from . import conditions
from .condition_forms import ConditionEditForm, ConditionForm, assistance_form
from .errors import StudyError
from .models import ReaderStudy


def conditions_context(study: ReaderStudy) -> dict:
    """The draft page's conditions section: each condition with its edit forms, and the forms
    that add one."""
    rows = []
    for row in study.conditions.select_related("assistance__model_version"):
        prefix = f"c-{row.code}"
        rows.append(
            {
                "condition": row,
                "form": ConditionEditForm(initial={"name": row.name}, prefix=prefix),
                "assistance": assistance_form(row.assistance, prefix=prefix)
                if row.is_aided
                else None,
            }
        )
    return {
        "condition_rows": rows,
        "condition_add_form": ConditionForm(prefix="new"),
        "condition_add_assistance": assistance_form(prefix="new"),
    }


def _back(study: ReaderStudy):
    return redirect(f"{reverse('study-detail', args=[study.pk])}#study-conditions")


def _invalid(*forms) -> str:
    return "; ".join(f.errors.as_text() for f in forms if f.errors)


@coordinator_required
@require_POST
def condition_add(request, pk: int):
    study = get_object_or_404(ReaderStudy, pk=pk)
    form = ConditionForm(request.POST, prefix="new")
    settings = assistance_form(data=request.POST, prefix="new")
    try:
        if not (form.is_valid() and settings.is_valid()):
            raise StudyError("bad_form", f"invalid condition: {_invalid(form, settings)}")
        row = conditions.add_condition(
            study,
            code=form.cleaned_data["code"],
            name=form.cleaned_data["name"],
            assistance=settings.cleaned_data,
        )
    except StudyError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Condition “{row.name}” added.")
    return _back(study)


@coordinator_required
@require_POST
def condition_edit(request, pk: int, code: str):
    study = get_object_or_404(ReaderStudy, pk=pk)
    prefix = f"c-{code}"
    form = ConditionEditForm(request.POST, prefix=prefix)
    aided = code != "unaided"
    settings = assistance_form(data=request.POST, prefix=prefix) if aided else None
    try:
        if not form.is_valid() or (settings is not None and not settings.is_valid()):
            raise StudyError(
                "bad_form", f"invalid condition: {_invalid(form, *[settings] * aided)}"
            )
        conditions.update_condition(
            study,
            code,
            name=form.cleaned_data["name"],
            assistance=settings.cleaned_data if settings is not None else None,
        )
    except StudyError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Condition “{form.cleaned_data['name']}” saved.")
    return _back(study)


@coordinator_required
@require_POST
def condition_delete(request, pk: int, code: str):
    study = get_object_or_404(ReaderStudy, pk=pk)
    try:
        conditions.remove_condition(study, code)
    except StudyError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Condition {code} removed.")
    return _back(study)


@coordinator_required
@require_POST
def condition_move(request, pk: int, code: str):
    study = get_object_or_404(ReaderStudy, pk=pk)
    offset = {"up": -1, "down": 1}.get(request.POST.get("direction", ""))
    try:
        if offset is None:
            raise StudyError("bad_form", "move a condition up or down")
        conditions.move_condition(study, code, offset)
    except StudyError as exc:
        messages.error(request, exc.message)
    return _back(study)
