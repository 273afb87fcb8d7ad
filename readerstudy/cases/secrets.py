"""The site secret that keys UID remapping, date offsets, patient keys and case codes.

READERSTUDY_DEID_SECRET should be set per site and kept out of the database; by default it is
derived from SECRET_KEY so that the demo works without extra set-up.
"""

import hashlib
import hmac

from django.conf import settings


def deid_secret() -> bytes:
    explicit = getattr(settings, "DEID_SECRET", None)
    if explicit:
        return explicit.encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"readerstudy-deid", hashlib.sha256).digest()


def keyed_code(purpose: str, value: str, length: int = 10) -> str:
    """A short, non-reversible code (base32 of an HMAC) for pseudonyms and case codes."""
    import base64

    digest = hmac.new(deid_secret(), f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().rstrip("=")[:length]
