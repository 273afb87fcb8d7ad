"""The response to a login refused because its username + IP address is locked out (axes)."""

import json

from django.conf import settings
from django.http import HttpResponse

API_PREFIXES = ("/api/", "/dicomweb/")
CODE = "login_locked_out"


def cool_off_seconds() -> int:
    """How long a locked-out client waits. Every failure during a lockout restarts the
    cool-off, so the wait is the whole cool-off from now."""
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def detail() -> str:
    minutes = cool_off_seconds() // 60
    return (
        f"too many failed logins for this account from this address; try again in {minutes} minutes"
    )


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """429 with ``Retry-After``: JSON (``code``, ``detail``) for the API and DICOMweb, a line
    of text for the login page and the admin (``AXES_LOCKOUT_CALLABLE``)."""
    if request.path_info.startswith(API_PREFIXES) or "json" in request.headers.get("Accept", ""):
        response = HttpResponse(
            json.dumps({"code": CODE, "detail": detail()}),
            status=429,
            content_type="application/json",
        )
    else:
        response = HttpResponse(
            f"Login refused: {detail()}.", status=429, content_type="text/plain; charset=utf-8"
        )
    response["Retry-After"] = str(cool_off_seconds())
    return response
