"""DICOMweb (QIDO-RS and WADO-RS) over the de-identified library, with per-user access.

Files are streamed from storage (never read whole into Python per request); frames are read
from the stored pixel-data offset through a per-series frame index, and a series' ``/metadata``
hands a session client a short-lived frame token (a cookie scoped to the series and bound to
the live session) that lets its frame requests skip the user and access-policy lookups (see
``frames``); HTTP Basic clients get none. Responses carry ETags derived from the content
hashes.
"""

import base64
import json
import uuid

from django.contrib.auth import authenticate
from django.core.files.storage import default_storage
from django.http import Http404, HttpResponse, HttpResponseNotModified, StreamingHttpResponse
from django.views.decorators.http import require_GET

from . import frames as frame_index
from .access import can_view_case, visible_cases
from .models import Case, Instance, Series

EXPLICIT_LE = "1.2.840.10008.1.2.1"
CHUNK = 256 * 1024


def _basic_auth_user(request):
    """DICOMweb tools (OHIF, dicomweb-client) may send HTTP Basic credentials instead of a session."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None
    try:
        username, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return authenticate(request, username=username, password=password)


def _authenticated(request) -> bool:
    if not request.user.is_authenticated:
        user = _basic_auth_user(request)
        if user is not None:
            request.user = user
    return request.user.is_authenticated


def _unauthorized() -> HttpResponse:
    return HttpResponse(
        json.dumps({"detail": "authentication required"}),
        status=401,
        content_type="application/json",
    )


def _login_required_json(view):
    def wrapped(request, *args, **kwargs):
        if not _authenticated(request):
            return _unauthorized()
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    return require_GET(wrapped)


def _dicom_json(data, etag: str | None = None) -> HttpResponse:
    response = HttpResponse(json.dumps(data), content_type="application/dicom+json")
    if etag:
        response["ETag"] = f'"{etag}"'
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _not_modified(request, etag: str) -> bool:
    return request.headers.get("If-None-Match", "").strip('"') == etag


def _series_or_404(user, study_uid: str, series_uid: str) -> Series:
    series = (
        Series.objects.select_related("case")
        .filter(study_instance_uid=study_uid, series_instance_uid=series_uid)
        .first()
    )
    if series is None or not can_view_case(user, series.case):
        raise Http404("no such series")
    return series


def _attr(vr: str, *values) -> dict:
    return (
        {"vr": vr, "Value": list(values)} if values and values[0] not in (None, "") else {"vr": vr}
    )


def _study_json(study_uid: str, case: Case, series: list[Series]) -> dict:
    return {
        "0020000D": _attr("UI", study_uid),
        "00100020": _attr("LO", case.code),
        "00100010": _attr("PN", {"Alphabetic": case.code}),
        "00080061": _attr("CS", *sorted({s.modality for s in series})),
        "00201206": _attr("IS", len(series)),
        "00201208": _attr("IS", sum(s.num_slices for s in series)),
    }


def _series_json(series: Series) -> dict:
    return {
        "0020000D": _attr("UI", series.study_instance_uid),
        "0020000E": _attr("UI", series.series_instance_uid),
        "00080060": _attr("CS", series.modality),
        "00200011": _attr("IS", series.series_number),
        "0008103E": _attr("LO", series.description),
        "00201209": _attr("IS", series.num_slices),
    }


@_login_required_json
def qido_studies(request):
    cases = visible_cases(request.user, Case.objects.filter(status=Case.Status.READY))
    series = Series.objects.filter(case__in=cases).select_related("case")
    wanted = request.GET.get("StudyInstanceUID") or request.GET.get("0020000D")
    if wanted:
        series = series.filter(study_instance_uid=wanted)
    by_study: dict[str, list[Series]] = {}
    for s in series:
        by_study.setdefault(s.study_instance_uid, []).append(s)
    body = [_study_json(uid, rows[0].case, rows) for uid, rows in sorted(by_study.items())]
    return _dicom_json(body)


@_login_required_json
def qido_series(request, study_uid: str):
    cases = visible_cases(request.user, Case.objects.filter(status=Case.Status.READY))
    rows = Series.objects.filter(case__in=cases, study_instance_uid=study_uid)
    if not rows:
        raise Http404("no such study")
    return _dicom_json([_series_json(s) for s in rows])


@_login_required_json
def qido_instances(request, study_uid: str, series_uid: str):
    series = _series_or_404(request.user, study_uid, series_uid)
    body = [
        {
            "0020000D": _attr("UI", study_uid),
            "0020000E": _attr("UI", series_uid),
            "00080018": _attr("UI", i.sop_instance_uid),
            "00080016": _attr("UI", i.sop_class_uid),
            "00200013": _attr("IS", i.instance_number),
        }
        for i in series.instances.all()
    ]
    return _dicom_json(body)


@_login_required_json
def series_metadata(request, study_uid: str, series_uid: str):
    series = _series_or_404(request.user, study_uid, series_uid)
    if _not_modified(request, series.content_hash):
        return HttpResponseNotModified()
    metadata = list(series.instances.order_by("position").values_list("metadata", flat=True))
    response = _dicom_json(metadata, etag=series.content_hash)
    frame_index.issue_token(request, response, study_uid, series_uid)
    return response


def _instance_or_404(user, study_uid, series_uid, sop_uid) -> Instance:
    """One query for the instance and its series (without the header JSON it does not need)."""
    instance = (
        Instance.objects.select_related("series__case")
        .defer("metadata")
        .filter(
            sop_instance_uid=sop_uid,
            series__series_instance_uid=series_uid,
            series__study_instance_uid=study_uid,
        )
        .order_by()  # the default ordering would join and sort by series and case for one row
        .first()
    )
    if instance is None or not can_view_case(user, instance.series.case):
        raise Http404("no such instance")
    return instance


def _multipart(parts_header: str, stream, boundary: str):
    yield f"--{boundary}\r\nContent-Type: {parts_header}\r\n\r\n".encode()
    yield from stream
    yield f"\r\n--{boundary}--\r\n".encode()


def _file_chunks(name: str, offset: int = 0, length: int | None = None):
    with default_storage.open(name, "rb") as handle:
        handle.seek(offset)
        remaining = length
        while remaining is None or remaining > 0:
            size = CHUNK if remaining is None else min(CHUNK, remaining)
            chunk = handle.read(size)
            if not chunk:
                break
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk


def _multipart_response(request, part_type: str, outer_type: str, stream, etag: str):
    boundary = uuid.uuid4().hex
    response = StreamingHttpResponse(
        _multipart(part_type, stream, boundary),
        content_type=f'multipart/related; type="{outer_type}"; boundary={boundary}',
    )
    response["ETag"] = f'"{etag}"'
    response["Cache-Control"] = "private, max-age=3600"
    return response


@_login_required_json
def retrieve_instance(request, study_uid: str, series_uid: str, sop_uid: str):
    instance = _instance_or_404(request.user, study_uid, series_uid, sop_uid)
    if _not_modified(request, instance.sha256):
        return HttpResponseNotModified()
    part = f"application/dicom; transfer-syntax={instance.transfer_syntax_uid}"
    return _multipart_response(
        request, part, "application/dicom", _file_chunks(instance.file), instance.sha256
    )


def _may_view_case_id(user, case_id: int) -> bool:
    case = Case.objects.filter(pk=case_id).first()
    return case is not None and can_view_case(user, case)


@require_GET
def retrieve_frames(request, study_uid: str, series_uid: str, sop_uid: str, frames: str):
    """Frame 1 of a single-frame instance, read with one pread and answered in one piece.

    A valid frame token for this series (set by its ``/metadata``) stands in for the user and
    access-policy checks; without one the request is checked like every other DICOMweb
    request and, if allowed through a session, gets a token for the following frames."""
    index = frame_index.series_frames(study_uid, series_uid)
    issue = frame_index.token_user(request, study_uid, series_uid) is None
    if issue:
        if not _authenticated(request):
            return _unauthorized()
        if index is not None and not _may_view_case_id(request.user, index.case_id):
            # the entry may predate the deletion and re-import of a series with the same UIDs
            index = frame_index.series_frames(study_uid, series_uid, fresh=True)
        if index is None or not _may_view_case_id(request.user, index.case_id):
            raise Http404("no such instance")
    if frames.strip() != "1":
        raise Http404("single-frame instances have only frame 1")
    frame = index.frames.get(sop_uid) if index is not None else None
    if frame is None:
        raise Http404("no such instance")
    etag = f"{frame.sha256}-f1"
    if _not_modified(request, etag):
        return HttpResponseNotModified()
    try:
        pixels = frame_index.read_frame(frame)
    except FileNotFoundError:  # a stale entry of a deleted series: look it up again
        index = frame_index.series_frames(study_uid, series_uid, fresh=True)
        frame = index.frames.get(sop_uid) if index is not None else None
        if frame is None:
            raise Http404("no such instance") from None
        pixels = frame_index.read_frame(frame)
        etag = f"{frame.sha256}-f1"
    boundary = uuid.uuid4().hex
    head = f"--{boundary}\r\nContent-Type: application/octet-stream; transfer-syntax={EXPLICIT_LE}\r\n\r\n"
    body = b"".join((head.encode(), pixels, f"\r\n--{boundary}--\r\n".encode()))
    response = HttpResponse(
        body,
        content_type=f'multipart/related; type="application/octet-stream"; boundary={boundary}',
    )
    response["Content-Length"] = str(len(body))
    response["ETag"] = f'"{etag}"'
    response["Cache-Control"] = "private, max-age=3600"
    if issue:
        frame_index.issue_token(request, response, study_uid, series_uid)
    return response
