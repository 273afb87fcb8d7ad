"""Uploads waiting for their import: the upload storage that web and workers share.

The web side moves a request's staged files (:mod:`.upload_handler`) here under its job's id, so
the place is derived from the job and needs no field of its own::

    <job id>/000001            the files, numbered in the order they were sent
    <job id>/manifest.json     {"names": [...]}: the names as uploaded, written last

The storage is ``STORAGES["uploads"]``: a folder of the data dir (``<data dir>/uploads``,
folders 0700, files 0600; on one machine the staged file is moved there, not copied), or the
S3 bucket under ``<prefix>/uploads`` where the media are on S3. Web and workers must both see
it: on several machines share ``READERSTUDY_DATA_DIR`` (compose mounts one volume ``/data`` in
every container) or use S3. These are the original, identifiable files: the worker removes them
when the import ends whatever the outcome (:func:`discard`), and ``manage.py sweep_uploads``
removes those of imports that never ended.
"""

import contextlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import storages

MANIFEST = "manifest.json"


class UploadMissing(Exception):
    """The job's files are not in the upload storage this process sees."""


def storage():
    return storages["uploads"]


def _folder(job_id) -> str:
    return str(job_id)


def publish(job_id, files) -> int:
    """Move uploaded files (:class:`~.upload_handler.StagedFile`) into the job's folder.

    The manifest goes last, so a folder without one was never complete. On an error the
    folder is removed again and the error raised.
    """
    store = storage()
    folder = _folder(job_id)
    try:
        names = []
        for index, upload in enumerate(files, 1):
            with upload.open("rb"):
                _save(store, f"{folder}/{index:06d}", upload)
            names.append(upload.name or f"upload-{index:05d}")
        _save(store, f"{folder}/{MANIFEST}", ContentFile(json.dumps({"names": names}).encode()))
    except Exception:
        discard(job_id)
        raise
    return len(names)


def _save(store, key: str, content) -> None:
    saved = store.save(key, content)
    if saved != key:  # the storage chose another name: this folder was not empty
        store.delete(saved)
        raise FileExistsError(f"the upload storage already holds {key}")


def names(job_id) -> list[str]:
    """The uploaded names, in order. Raises :class:`UploadMissing`."""
    try:
        with storage().open(f"{_folder(job_id)}/{MANIFEST}", "rb") as fh:
            return list(json.load(fh)["names"])
    except (OSError, ValueError, KeyError) as exc:
        raise UploadMissing(str(job_id)) from exc


@contextlib.contextmanager
def local_files(job_id) -> Iterator[list[tuple[str, Path]]]:
    """``(uploaded name, local path)`` of the job's files, for as long as the block runs.

    On the data dir's storage the paths are the stored files themselves; on remote storage
    each file is copied (streamed) to a private temporary folder, removed afterwards.
    Raises :class:`UploadMissing`.
    """
    store = storage()
    uploaded = names(job_id)
    keys = [f"{_folder(job_id)}/{index:06d}" for index in range(1, len(uploaded) + 1)]
    try:
        paths = [Path(store.path(key)) for key in keys]
    except NotImplementedError:
        paths = None
    if paths is not None:
        if not all(p.is_file() for p in paths):
            raise UploadMissing(str(job_id))
        yield list(zip(uploaded, paths))
        return
    with tempfile.TemporaryDirectory(prefix="rs-upload-") as tmp:
        copies = []
        for key in keys:
            target = Path(tmp) / key.rsplit("/", 1)[1]
            try:
                with store.open(key, "rb") as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out, 1024 * 1024)
            except OSError as exc:
                raise UploadMissing(str(job_id)) from exc
            copies.append(target)
        yield list(zip(uploaded, copies))


def discard(job_id) -> None:
    """Remove the job's folder and everything in it (nothing there is fine)."""
    store = storage()
    folder = _folder(job_id)
    try:
        _, files = store.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in files:
        with contextlib.suppress(FileNotFoundError):
            store.delete(f"{folder}/{name}")
    with contextlib.suppress(FileNotFoundError, NotImplementedError, OSError):
        store.delete(folder)  # the folder itself, on the data dir (none on S3)


def folders() -> list[str]:
    """The job folders in the upload storage."""
    try:
        dirs, _ = storage().listdir("")
    except FileNotFoundError:
        return []
    return sorted(dirs)


def last_change(job_id) -> datetime | None:
    """When the job's folder last changed (its newest file, or the folder itself)."""
    store = storage()
    folder = _folder(job_id)
    times = []
    try:
        _, files = store.listdir(folder)
    except FileNotFoundError:
        return None
    for name in files:
        with contextlib.suppress(FileNotFoundError, NotImplementedError):
            times.append(store.get_modified_time(f"{folder}/{name}"))
    if not times:
        with contextlib.suppress(FileNotFoundError, NotImplementedError, OSError):
            times.append(store.get_modified_time(folder))
    return max(times) if times else None
