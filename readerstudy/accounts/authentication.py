"""HTTP Basic for the API, answering a locked-out login with 429 instead of a plain 401/403.

DRF hands its own ``Request`` to ``authenticate()``, so axes marks that object, which
``AxesMiddleware`` never sees; the mark is read here instead."""

from drf_spectacular.authentication import BasicScheme
from rest_framework import exceptions, status
from rest_framework.authentication import BasicAuthentication

from . import lockout


class LoginLockedOut(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = lockout.CODE

    def __init__(self):
        super().__init__({"code": lockout.CODE, "detail": lockout.detail()})
        self.wait = lockout.cool_off_seconds()  # DRF's handler turns it into Retry-After


class LockoutAwareBasicAuthentication(BasicAuthentication):
    def authenticate_credentials(self, userid, password, request=None):
        try:
            return super().authenticate_credentials(userid, password, request)
        except exceptions.AuthenticationFailed:
            if getattr(request, "axes_locked_out", False):
                raise LoginLockedOut() from None
            raise


class LockoutAwareBasicScheme(BasicScheme):
    """Documents it in the OpenAPI schema as plain HTTP Basic."""

    # drf-spectacular takes a class or its dotted path; BasicScheme's own value is a path
    target_class = LockoutAwareBasicAuthentication  # type: ignore[assignment]
