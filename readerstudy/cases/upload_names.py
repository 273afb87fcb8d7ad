"""The names an uploader gave its files, for that uploader's own response only.

Stored errors name a file by :func:`safe_file_label` (a keyed hash where the name could carry
identifying text). The upload request still holds the names it sent, so the same function with
the same secret, run again in memory, maps each hashed label in the errors back to the name as
uploaded (members of an uploaded zip included). The mapping goes into that one response and is
never stored or logged.
"""

import re
import zipfile

from .dicom import safe_file_label
from .dicom.archives import ArchiveLimits, looks_like_zip
from .secrets import deid_secret

_SUFFIX = re.compile(r"#\d+$")  # the core's suffix for files sharing a label


def _hashed_labels(errors: list[dict]) -> dict[str, set[str]]:
    """Base label -> the labels (with suffix) the errors name, for hashed labels only."""
    wanted: dict[str, set[str]] = {}
    for error in errors:
        label = error.get("file") if isinstance(error, dict) else None
        if isinstance(label, str) and "~" in label:
            wanted.setdefault(_SUFFIX.sub("", label), set()).add(label)
    return wanted


def _names_in(upload) -> list[str]:
    """The upload's own name, and its members' names when it is a zip."""
    name = getattr(upload, "name", None)
    names = [name] if name else []
    try:
        upload.seek(0)
        if not looks_like_zip(upload.read(132)):
            return names
        upload.seek(0)
        with zipfile.ZipFile(upload) as archive:
            members = archive.infolist()[: ArchiveLimits.max_members]
            names.extend(m.filename for m in members if not m.is_dir())
    except (OSError, ValueError, zipfile.BadZipFile, NotImplementedError):
        pass
    return names


def uploaded_names(files, errors: list[dict]) -> dict[str, str]:
    """Label -> name as uploaded, for each hashed file label the errors name."""
    wanted = _hashed_labels(errors)
    if not wanted:
        return {}
    secret = deid_secret()
    found: dict[str, str] = {}
    for upload in files:
        for name in _names_in(upload):
            labels = wanted.get(safe_file_label(name, secret), ())
            for label in labels:
                found.setdefault(label, name)
    return found
