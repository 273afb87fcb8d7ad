"""Who reaches the case library's pages: coordinators (and administrators) only."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def coordinator_page(view):
    """Anonymous visitors go to the login page; other roles get 403 (never the ground truth)."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_coordinator:
            raise PermissionDenied("the case library is for coordinators")
        return view(request, *args, **kwargs)

    return wrapped
