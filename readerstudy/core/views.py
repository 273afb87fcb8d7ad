from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .health import run_checks
from .navigation import links_for


@never_cache
@require_GET
def healthz(request):
    """Public readiness probe: 200 when database, broker and storage answer, else 503."""
    checks = run_checks()
    healthy = all(check.ok for check in checks)
    body = {
        "status": "ok" if healthy else "fail",
        "checks": {c.name: {"ok": c.ok, "detail": c.detail, "ms": c.ms} for c in checks},
    }
    return JsonResponse(body, status=200 if healthy else 503)


@login_required
def home(request):
    return render(request, "core/home.html", {"links": links_for(request.user)})


def permission_denied(request, exception=None):
    """The 403 page: who the page is for, and the way back to the caller's own home."""
    reason = str(exception) if exception is not None and str(exception) else ""
    return render(
        request,
        "core/403.html",
        {"reason": reason or "You do not have access to this page."},
        status=403,
    )
