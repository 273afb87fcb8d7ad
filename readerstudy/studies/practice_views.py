"""The coordinator's practice setup on the study page (see :mod:`.practice` for the rules)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from readerstudy.accounts.decorators import coordinator_required
from readerstudy.cases.models import Case

from . import practice_services
from .errors import StudyError
from .models import ReaderStudy
from .practice import PracticeRule, settings_of


def practice_setup(study: ReaderStudy) -> dict:
    """What the study page's practice card shows."""
    return {
        "settings": settings_of(study),
        "rules": PracticeRule.choices,
        "cases": study.practice_cases.select_related("case__ground_truth"),
        "readers": study.readers.select_related("user", "practice_standing"),
    }


def _back(study: ReaderStudy):
    return redirect(f"{reverse('study-detail', args=[study.pk])}#study-practice")


def _int(value: str | None, what: str, default: int | None = None) -> int | None:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise StudyError("bad_form", f"{what} must be a whole number, not {value!r}") from None


@coordinator_required
@require_POST
def practice_configure(request, pk: int):
    study = get_object_or_404(ReaderStudy, pk=pk)
    try:
        practice_services.configure(
            study,
            by=request.user,
            task_text=request.POST.get("task_text", ""),
            rule=request.POST.get("rule", PracticeRule.NONE),
            min_correct=_int(request.POST.get("min_correct"), "k"),
            max_attempts=_int(request.POST.get("max_attempts"), "max attempts", 2) or 0,
        )
    except StudyError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Practice settings saved.")
    return _back(study)


@coordinator_required
@require_POST
def practice_case_add(request, pk: int):
    study = get_object_or_404(ReaderStudy, pk=pk)
    code = (request.POST.get("case") or "").strip()
    case = Case.objects.filter(code=code).first()
    try:
        if case is None:
            raise StudyError("case_unknown", f"no case with the code {code!r}")
        practice_services.add_case(study, case, by=request.user)
    except StudyError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Case {case.code} is a practice case.")
    return _back(study)


@coordinator_required
@require_POST
def practice_case_remove(request, pk: int):
    study = get_object_or_404(ReaderStudy, pk=pk)
    case = get_object_or_404(Case, code=request.POST.get("case", ""))
    try:
        practice_services.remove_case(study, case, by=request.user)
    except StudyError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Case {case.code} is no longer a practice case.")
    return _back(study)


@coordinator_required
@require_POST
def practice_grant(request, pk: int):
    study = get_object_or_404(ReaderStudy, pk=pk)
    reader = get_object_or_404(
        study.readers.select_related("user"), user_id=request.POST.get("user")
    )
    try:
        if request.POST.get("grant") == "qualify":
            practice_services.grant_qualification(reader, by=request.user)
            messages.success(request, f"{reader.user.username} may now read the study.")
        else:
            practice_services.grant_attempt(reader, by=request.user)
            messages.success(request, f"{reader.user.username} has one more practice attempt.")
    except StudyError as exc:
        messages.error(request, exc.message)
    return _back(study)
