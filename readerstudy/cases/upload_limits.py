"""The request size an upload may have (``MAX_UPLOAD_BYTES``), for the page and the API."""

from django.conf import settings


def too_large(request) -> bool:
    return int(request.META.get("CONTENT_LENGTH") or 0) > settings.MAX_UPLOAD_BYTES


def too_large_detail() -> str:
    return f"uploads are limited to {settings.MAX_UPLOAD_BYTES // 2**20} MB"
