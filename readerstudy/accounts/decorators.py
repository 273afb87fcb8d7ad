"""Page decorators by role: anonymous callers sign in, signed-in callers of the wrong role get 403.

``user_passes_test`` sends everyone who fails to the sign-in form, which a signed-in user of
another role cannot get past; they are told instead whom the page is for (see the 403 page).
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied


def role_required(audience: str, allowed):
    """Let ``allowed(user)`` callers through; ``audience`` names them in the refusal."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not allowed(user):
                raise PermissionDenied(
                    f"This page is for {audience}; you are signed in as "
                    f"{_article(user.get_role_display().lower())}."
                )
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _article(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


reader_required = role_required("readers", lambda u: u.is_reader)
coordinator_required = role_required("coordinators", lambda u: u.is_coordinator)
