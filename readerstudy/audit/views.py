"""The per-study audit trail page and its CSV export (the rights of the study's exports)."""

import csv
import io

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.text import slugify

from readerstudy.exports.access import export_rights
from readerstudy.studies.models import ReaderStudy

from . import record, timeline

PAGE_SIZE = 50


def _study(request: HttpRequest, pk: int) -> ReaderStudy:
    study = get_object_or_404(ReaderStudy, pk=pk)
    if not export_rights(request.user, study).allowed:
        raise Http404("no such study")
    return study


@login_required
def study_trail(request: HttpRequest, pk: int) -> HttpResponse:
    study = _study(request, pk)
    page = Paginator(timeline.merged(study), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/study_trail.html",
        {"study": study, "page": page, "rows": timeline.rows(list(page.object_list))},
    )


@login_required
def study_trail_csv(request: HttpRequest, pk: int) -> HttpResponse:
    study = _study(request, pk)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(timeline.COLUMNS)
    keys = timeline.merged(study)
    for start in range(0, keys.count(), 1000):
        for row in timeline.rows(list(keys[start : start + 1000])):
            writer.writerow(row.as_list())
    record(request.user, "export.download", study, file="audit-trail.csv")
    response = HttpResponse(buffer.getvalue(), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{slugify(study.title)}-audit.csv"'
    return response
