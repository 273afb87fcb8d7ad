"""Reader pages: the worklist and the reading workspace (the viewer and the question form)."""

from django.http import Http404
from django.shortcuts import redirect, render

from readerstudy.accounts.decorators import reader_required
from readerstudy.studies.practice import settings_of, task_text

from . import consent, selectors


@reader_required
def worklist(request):
    return render(request, "reading/worklist.html", {"studies": selectors.my_studies(request.user)})


@reader_required
def workspace(request, study_id: int):
    study = selectors.my_studies(request.user).filter(pk=study_id).first()
    if study is None:
        raise Http404("no such study")
    if consent.needs_consent(request.user, study):  # nothing of the reads before consent
        return redirect("reading-consent-page", study_id=study.pk)
    # The instructions open by themselves until the reader has locked a first read.
    return render(
        request,
        "reading/workspace.html",
        {
            "study": study,
            "first_visit": study.locked == 0,
            "task_text": task_text(study),
            # The task screen opens before the first case where the coordinator wrote a task.
            "task_set": bool(settings_of(study).task_text),
        },
    )
