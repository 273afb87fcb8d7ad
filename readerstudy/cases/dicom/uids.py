"""Deterministic, keyed UID replacement (PS3.15 Annex E action ``U``).

``remap(uid) = generate_uid(prefix, entropy_srcs=[secret_hex, uid])``: a SHA-512 of the site
secret and the original UID under the configured root.  The mapping needs no shared state, so
slices of one series de-identified by different worker processes (or re-imported later) end up
with the same Study / Series / Frame of Reference UIDs, and it cannot be reversed or recomputed
without the secret.

Kept unchanged: UIDs registered in the DICOM standard (pydicom's UID dictionary: SOP classes,
transfer syntaxes, coding schemes, well-known frames of reference...), and values of attributes
whose keyword names a class (``*ClassUID``, e.g. a vendor's private SOP class), plus
``TransferSyntaxUID``.  Never remap class UIDs: other tools (highdicom) rely on them.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydicom._uid_dict import UID_dictionary
from pydicom.uid import PYDICOM_ROOT_UID, generate_uid

__all__ = ["KEEP_UID_KEYWORDS", "UIDRemapper", "is_registered_uid"]

#: attribute keywords whose UID values are never replaced
KEEP_UID_KEYWORDS = frozenset(
    {
        "TransferSyntaxUID",
        "ImplementationClassUID",
        "CodingSchemeUID",
        "ContextGroupExtensionCreatorUID",
        "PrivateInformationCreatorUID",
    }
)

_REGISTERED = frozenset(UID_dictionary)


def is_registered_uid(value: str) -> bool:
    return value in _REGISTERED


def keep_uid_attribute(keyword: str) -> bool:
    return keyword in KEEP_UID_KEYWORDS or keyword.endswith("ClassUID")


class UIDRemapper:
    """Replace instance UIDs deterministically under ``prefix`` keyed by ``secret``."""

    def __init__(self, secret: bytes, prefix: str | None = None, cache_size: int = 100_000):
        if not secret:
            raise ValueError("a non-empty site secret is required for UID replacement")
        self._secret_hex = secret.hex()
        self.prefix = prefix or PYDICOM_ROOT_UID
        if not self.prefix.endswith("."):
            self.prefix += "."
        # validate once (generate_uid raises on a bad or too long prefix)
        generate_uid(self.prefix, entropy_srcs=["check"])
        self._cache: dict[str, str] = {}
        self._cache_size = cache_size

    def __repr__(self) -> str:  # never show the secret
        return f"UIDRemapper(prefix={self.prefix!r})"

    def remap(self, uid: str) -> str:
        """Return the replacement for one UID value (registered UIDs are returned unchanged)."""
        uid = str(uid).strip().rstrip("\x00").strip()
        if not uid or uid in _REGISTERED:
            return uid
        new = self._cache.get(uid)
        if new is None:
            new = str(generate_uid(self.prefix, entropy_srcs=[self._secret_hex, uid]))
            if len(self._cache) >= self._cache_size:
                self._cache.clear()
            self._cache[uid] = new
        return new

    def remap_value(self, value: str | Iterable[str]) -> str | list[str]:
        """Remap a single UID or a multi-valued list of UIDs."""
        if isinstance(value, str):
            return self.remap(value)
        return [self.remap(v) for v in value]
