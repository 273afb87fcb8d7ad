"""Storage helpers: content-addressed names and local copies for libraries that need paths."""

import contextlib
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage


def content_name(prefix: str, data: bytes, suffix: str) -> str:
    digest = hashlib.sha256(data).hexdigest()
    return f"{prefix}/{digest[:2]}/{digest}{suffix}"


def save_content_addressed(prefix: str, data: bytes, suffix: str) -> tuple[str, str]:
    """Store bytes under a name derived from their sha256; identical bytes are stored once."""
    name = content_name(prefix, data, suffix)
    if not default_storage.exists(name):
        saved = default_storage.save(name, ContentFile(data))
        if saved != name:  # a concurrent writer stored the same content first
            default_storage.delete(saved)
    return name, hashlib.sha256(data).hexdigest()


def file_content_name(prefix: str, path: Path, suffix: str) -> tuple[str, str]:
    """:func:`content_name` of a file, read in chunks; (name, sha256)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    hexdigest = digest.hexdigest()
    return f"{prefix}/{hexdigest[:2]}/{hexdigest}{suffix}", hexdigest


def save_content_addressed_file(name: str, path: Path) -> str:
    """Store a file under its :func:`file_content_name`, streamed; stored once."""
    if not default_storage.exists(name):
        with open(path, "rb") as fh:
            saved = default_storage.save(name, File(fh))
        if saved != name:  # a concurrent writer stored the same content first
            default_storage.delete(saved)
    return name


@contextlib.contextmanager
def local_copy(name: str):
    """A filesystem path for a stored file (the file itself on local storage, else a temp copy)."""
    try:
        path = default_storage.path(name)
    except NotImplementedError:
        path = None
    if path is not None:
        yield Path(path)
        return
    suffix = "".join(Path(name).suffixes)
    fd, tmp = tempfile.mkstemp(suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as out, default_storage.open(name, "rb") as src:
            shutil.copyfileobj(src, out)
        yield Path(tmp)
    finally:
        os.unlink(tmp)
