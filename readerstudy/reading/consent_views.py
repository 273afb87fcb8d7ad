"""The consent page a reader sees before the first read of a study (and after a new version)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render

from readerstudy.accounts.decorators import reader_required
from readerstudy.studies.errors import StudyError

from . import consent, selectors


@reader_required
def consent_page(request, study_id: int):
    study = selectors.my_studies(request.user).filter(pk=study_id).first()
    if study is None:
        raise Http404("no such study")
    state = consent.consent_state(request.user, study)
    if request.method == "POST":
        try:
            consent.accept(request.user, study, int(request.POST.get("version") or 0))
        except (StudyError, ValueError) as exc:
            messages.error(request, getattr(exc, "message", "the version read is not valid"))
            return redirect("reading-consent-page", study_id=study.pk)
        return redirect("reading-workspace", study_id=study.pk)
    if not state.required or state.accepted:
        return redirect("reading-workspace", study_id=study.pk)
    return render(request, "reading/consent.html", {"study": study, "state": state})
