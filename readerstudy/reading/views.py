"""Reader pages: the worklist and the reading workspace (the viewer and the question form)."""

from django.contrib.auth.decorators import login_required, user_passes_test
from django.http import Http404
from django.shortcuts import render

from . import selectors

reader_required = user_passes_test(lambda u: u.is_authenticated and u.is_reader)


@login_required
@reader_required
def worklist(request):
    return render(request, "reading/worklist.html", {"studies": selectors.my_studies(request.user)})


@login_required
@reader_required
def workspace(request, study_id: int):
    study = selectors.my_studies(request.user).filter(pk=study_id).first()
    if study is None:
        raise Http404("no such study")
    # The instructions open by themselves until the reader has locked a first read.
    return render(
        request, "reading/workspace.html", {"study": study, "first_visit": study.locked == 0}
    )
