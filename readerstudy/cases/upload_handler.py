"""Case-library uploads streamed to private temporary files, never held whole in memory.

:class:`StagedUploadHandler` is a Django upload handler (the public ``FileUploadHandler`` API):
each uploaded file is written chunk by chunk to its own file under ``FILE_UPLOAD_TEMP_DIR``
(created 0700; the files 0600, by ``tempfile.mkstemp``), whose descriptor is closed once the
file is complete, so thousands of files do not hold thousands of descriptors. The request's
total is counted while it streams: past ``MAX_UPLOAD_BYTES`` (or with a larger
``Content-Length`` to begin with) what was written is removed, the rest of the body is read and
dropped, and :attr:`StagedUploadHandler.too_large` tells the view to answer 413.

:func:`staged_uploads` installs the handler on a request before anything reads its body (the
CSRF check does), and removes at the end of the request every staged file that was not moved
to the upload storage meanwhile (:func:`readerstudy.cases.staging.publish`), whatever
happened: a refusal, an error, a client that went away. Files of a process killed mid-request
are left to ``manage.py sweep_uploads``.
"""

import contextlib
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

TEMP_PREFIX = "rs-upload-"  # the sweeper removes old files of this name
MiB = 1024 * 1024


class StagedFile(UploadedFile):
    """An uploaded file complete on disk; ``open()`` it to read (closing keeps the file)."""

    def __init__(self, path: Path, name, content_type, size, charset, content_type_extra=None):
        super().__init__(None, name, content_type, size, charset, content_type_extra)
        self.path = Path(path)

    def temporary_file_path(self) -> str:
        """Django's storages move a file that has one instead of copying it."""
        return str(self.path)

    def open(self, mode="rb"):
        self.close()
        self.file = open(self.path, mode)  # noqa: SIM115 - closed by close()
        return self

    def close(self):
        if self.file is not None:
            self.file.close()
            self.file = None


class StagedUploadHandler(FileUploadHandler):
    chunk_size = 256 * 1024  # bytes read from the request at a time

    def __init__(self, request=None, *, max_bytes: int | None = None, temp_dir=None):
        super().__init__(request)
        self.max_bytes = settings.MAX_UPLOAD_BYTES if max_bytes is None else max_bytes
        self.temp_dir = Path(temp_dir or settings.FILE_UPLOAD_TEMP_DIR)
        self.too_large = False
        self.received = 0  # file bytes written, all files together
        self.staged: list[Path] = []  # every file this request created
        self._out = None
        self._path: Path | None = None

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > self.max_bytes:
            self.too_large = True  # read and drop the body: the view answers 413
        return None

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        if self.too_large:
            return
        self.temp_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, path = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".part", dir=self.temp_dir)
        self._path = Path(path)
        self.staged.append(self._path)
        self._out = os.fdopen(fd, "wb")

    def receive_data_chunk(self, raw_data, start):
        if self._out is None:
            return None  # refused: the data are dropped
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            self.too_large = True
            self.discard()
            return None
        self._out.write(raw_data)
        return None  # no other handler sees the data

    def file_complete(self, file_size):
        if self._out is None:
            return None
        self._out.close()
        self._out = None
        return StagedFile(
            self._path, self.file_name, self.content_type, file_size, self.charset,
            self.content_type_extra,
        )  # fmt: skip

    def upload_interrupted(self):
        self.discard()

    def discard(self) -> None:
        """Remove every file this request staged that is still here (not published)."""
        if self._out is not None:
            self._out.close()
            self._out = None
        for path in self.staged:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        self.staged.clear()


@contextlib.contextmanager
def staged_uploads(request):
    """Stream this request's files to disk; remove the ones left over when the block ends.

    Use it before the request's body is read: for a DRF view around ``dispatch``, for a page
    exempt from the CSRF middleware with the check (``csrf_protect``) inside the block.
    """
    handler = StagedUploadHandler(request)
    request.upload_handlers = [handler]
    try:
        yield handler
    finally:
        handler.discard()
