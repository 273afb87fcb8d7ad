"""Logins, logouts and failed logins (Django's auth signals) become audit events."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed


def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from .services import record

    record(user, "login", user, path=getattr(request, "path", ""))


def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from .services import record

    if user is not None and user.is_authenticated:  # logging out without a session: nothing
        record(user, "logout", user, path=getattr(request, "path", ""))


def _login_failed(sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    from .services import record

    username = str(credentials.get("username", ""))[:150]
    known = get_user_model().objects.filter(username=username).first()
    record(None, "login.failed", known or get_user_model(), username=username)


def connect() -> None:
    user_logged_in.connect(_logged_in, dispatch_uid="audit-login")
    user_login_failed.connect(_login_failed, dispatch_uid="audit-login-failed")
    user_logged_out.connect(_logged_out, dispatch_uid="audit-logout")
