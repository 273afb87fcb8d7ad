"""The names an uploader gave its files, for that uploader's own response only.

Stored errors name a file by :func:`safe_file_label` (a keyed hash where the name could carry
identifying text). The upload request still holds the names it sent, so the same function with
the same secret, run again in memory, maps each hashed label back to the name as uploaded
(members of an uploaded zip included). The import runs later on a worker, so the answer to the
upload maps every hashed label the upload can produce (:func:`hashed_names`); the page looks the
labels of the job's errors up in it. The mapping goes into that one response and is never
stored or logged.
"""

import contextlib
import zipfile

from .dicom import safe_file_label
from .dicom.archives import ArchiveLimits, looks_like_zip
from .secrets import deid_secret


def _names_in(upload) -> list[str]:
    """The names the import labels: the upload's own, or its members' when it is a zip."""
    name = getattr(upload, "name", None)
    names = [name] if name else []
    path = getattr(upload, "temporary_file_path", None)
    try:
        with contextlib.ExitStack() as stack:
            source = stack.enter_context(open(path(), "rb")) if path else upload  # noqa: SIM115
            source.seek(0)
            if not looks_like_zip(source.read(132)):
                return names
            source.seek(0)
            with zipfile.ZipFile(source) as archive:
                members = archive.infolist()[: ArchiveLimits.max_members]
                return [m.filename for m in members if not m.is_dir()]
    except (OSError, ValueError, zipfile.BadZipFile, NotImplementedError):
        pass
    return names


def hashed_names(files) -> dict[str, str]:
    """Hashed label -> name as uploaded, for every file (and zip member) with a hashed label.

    A label the core gives to several files of the same name carries a ``#n`` suffix; look it
    up without the suffix.
    """
    secret = deid_secret()
    found: dict[str, str] = {}
    for upload in files:
        for name in _names_in(upload):
            label = safe_file_label(name, secret)
            if "~" in label:
                found.setdefault(label, name)
    return found
