"""Domain errors and their translation into API responses."""

from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class DomainError(Exception):
    """An error a service raises on purpose: a stable ``code``, a human message, an HTTP status."""

    status = 400

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def api_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response({"code": exc.code, "detail": exc.message}, status=exc.status)
    response = drf_exception_handler(exc, context)
    # DRF answers {"detail": ...}; its error code (parse_error, not_found, ...) goes beside it.
    if response is not None and isinstance(response.data, dict):
        codes = exc.get_codes() if isinstance(exc, APIException) else None
        if "detail" in response.data and isinstance(codes, str):
            response.data.setdefault("code", codes)
    return response
