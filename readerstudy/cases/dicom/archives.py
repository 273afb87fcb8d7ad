"""Safe handling of uploaded zip archives and folders of DICOM files.

Zip archives are checked as a whole before anything is read (:func:`inspect_zip`): member
names must be relative and stay inside the archive (no ``..``, absolute paths, drive letters,
NUL bytes), members must not be encrypted or symbolic links, and the declared sizes must stay
within :class:`ArchiveLimits`.  While members are read, the bytes actually produced are
counted again, so a header that lies about sizes cannot inflate past the limits.  Nested
archives (``.zip`` members or members starting with a zip signature) are **not** followed;
they are reported as ``nested_archive`` and skipped.  Any other violation raises
:class:`~.errors.ArchiveError` and nothing from the archive is used.

Default limits (all configurable):

==========================  =============  =================================================
``max_members``             20 000         files in one archive (a head CT study: ~200-2000)
``max_member_bytes``        256 MiB        one uncompressed member
``max_total_bytes``         8 GiB          all members together, uncompressed
``max_ratio``               200            uncompressed / compressed size of one member,
                                           checked for members above ``ratio_min_bytes``
``ratio_min_bytes``         1 MiB          (small members compress arbitrarily well)
==========================  =============  =================================================

Folders (:func:`iter_dicom_files`) are walked recursively without following symbolic links,
skipping hidden entries (``.name``), ``__MACOSX`` and ``DICOMDIR`` files; a file counts as DICOM
when it has the ``DICM`` marker at byte 128 or, failing that, when pydicom can parse SOP Class
and Instance UIDs from it.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import ArchiveError, ErrorCode, IngestError, Severity, safe_file_label

__all__ = [
    "ArchiveLimits",
    "ArchiveMember",
    "extract_zip",
    "inspect_zip",
    "is_dicom_file",
    "is_zip",
    "iter_dicom_files",
    "iter_zip",
]

MiB = 1024 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    max_members: int = 20_000
    max_member_bytes: int = 256 * MiB
    max_total_bytes: int = 8 * 1024 * MiB
    max_ratio: float = 200.0
    ratio_min_bytes: int = 1 * MiB


@dataclass(frozen=True)
class ArchiveMember:
    name: str  # normalised relative POSIX path inside the archive
    label: str  # safe display label (see errors.safe_file_label)
    info: zipfile.ZipInfo


_DRIVE = re.compile(r"^[A-Za-z]:")
_SKIP_NAMES = {"DICOMDIR", ".DS_Store", "Thumbs.db", "desktop.ini"}


def is_zip(path: str | Path) -> bool:
    """Zip signature at the start, and not a DICOM file (whose free preamble could hold one)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(132)
    except OSError:
        return False
    return head[:4] in (b"PK\x03\x04", b"PK\x05\x06") and head[128:132] != b"DICM"


def _fail(code: ErrorCode, msg: str, label: str | None = None) -> ArchiveError:
    return ArchiveError(IngestError(code, msg, file=label))


def _normalise(raw_name: str, secret: bytes) -> str:
    label = safe_file_label(raw_name, secret)
    if "\x00" in raw_name:
        raise _fail(ErrorCode.UNSAFE_PATH, f"member {label}: name contains a NUL byte", label)
    name = raw_name.replace("\\", "/")
    if name.startswith("/") or _DRIVE.match(name) or name.startswith("//"):
        raise _fail(ErrorCode.UNSAFE_PATH, f"member {label}: absolute path", label)
    parts = PurePosixPath(name).parts
    if any(p == ".." for p in parts):
        raise _fail(ErrorCode.UNSAFE_PATH, f"member {label}: path leaves the archive", label)
    return "/".join(p for p in parts if p not in ("", "."))


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return info.create_system == 3 and stat.S_ISLNK(mode)


def inspect_zip(
    zf: zipfile.ZipFile, limits: ArchiveLimits | None = None, secret: bytes = b""
) -> tuple[list[ArchiveMember], list[IngestError]]:
    """Validate the whole archive from its directory; return (members to read, notes)."""
    lim = limits or ArchiveLimits()
    infos = zf.infolist()
    if len(infos) > lim.max_members:
        raise _fail(
            ErrorCode.TOO_MANY_MEMBERS,
            f"archive has {len(infos)} members; the limit is {lim.max_members}",
        )
    members: list[ArchiveMember] = []
    notes: list[IngestError] = []
    total = 0
    for info in infos:
        name = _normalise(info.filename, secret)
        label = safe_file_label(name, secret)
        if _is_symlink(info):
            raise _fail(ErrorCode.SYMLINK, f"member {label} is a symbolic link", label)
        if info.flag_bits & 0x1:
            raise _fail(ErrorCode.ENCRYPTED_MEMBER, f"member {label} is encrypted", label)
        if info.is_dir() or not name:
            continue
        if info.file_size > lim.max_member_bytes:
            raise _fail(
                ErrorCode.ZIP_BOMB,
                f"member {label} is {info.file_size} bytes uncompressed; limit {lim.max_member_bytes}",
                label,
            )
        total += info.file_size
        if total > lim.max_total_bytes:
            raise _fail(
                ErrorCode.ZIP_BOMB,
                f"archive expands to more than {lim.max_total_bytes} bytes",
            )
        if info.file_size > lim.ratio_min_bytes:
            ratio = info.file_size / max(1, info.compress_size)
            if ratio > lim.max_ratio:
                raise _fail(
                    ErrorCode.ZIP_BOMB,
                    f"member {label} has compression ratio {ratio:.0f}; limit {lim.max_ratio:.0f}",
                    label,
                )
        base = name.rsplit("/", 1)[-1]
        if (
            any(p.startswith(".") or p == "__MACOSX" for p in name.split("/"))
            or base in _SKIP_NAMES
        ):
            continue
        if base.lower().endswith(".zip"):
            notes.append(
                IngestError(
                    ErrorCode.NESTED_ARCHIVE,
                    f"{label}: nested archive not opened",
                    file=label,
                    severity=Severity.EXCLUDED,
                )
            )
            continue
        members.append(ArchiveMember(name, label, info))
    return members, notes


def _read_member(zf: zipfile.ZipFile, m: ArchiveMember, lim: ArchiveLimits, budget: list[int]):
    cap = min(m.info.file_size, lim.max_member_bytes)
    chunks = []
    got = 0
    with zf.open(m.info) as fh:
        while True:
            chunk = fh.read(min(1 * MiB, cap - got + 1))
            if not chunk:
                break
            got += len(chunk)
            budget[0] -= len(chunk)
            if got > cap or budget[0] < 0:
                raise _fail(
                    ErrorCode.ZIP_BOMB, f"member {m.label} expands beyond its size", m.label
                )
            chunks.append(chunk)
    return b"".join(chunks)


def iter_zip(
    source: str | Path | io.IOBase,
    limits: ArchiveLimits | None = None,
    secret: bytes = b"",
    notes: list[IngestError] | None = None,
) -> Iterator[tuple[str, bytes]]:
    """Yield (member label, bytes) for each regular member; raise ArchiveError if unsafe.

    The label is the PHI-safe display name (see :func:`~.errors.safe_file_label`).  Nested
    archives found while reading are appended to ``notes`` and skipped.
    """
    lim = limits or ArchiveLimits()
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _fail(ErrorCode.BAD_ARCHIVE, "the upload is not a readable zip archive") from None
    with zf:
        members, found = inspect_zip(zf, lim, secret)
        if notes is not None:
            notes.extend(found)
        budget = [lim.max_total_bytes]
        for m in members:
            try:
                data = _read_member(zf, m, lim, budget)
            except ArchiveError:
                raise
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
                raise _fail(
                    ErrorCode.BAD_ARCHIVE, f"member {m.label} cannot be read", m.label
                ) from None
            except RuntimeError:  # e.g. encrypted without the flag
                raise _fail(
                    ErrorCode.ENCRYPTED_MEMBER, f"member {m.label} cannot be read", m.label
                ) from None
            if data[:4] == b"PK\x03\x04":
                if notes is not None:
                    notes.append(
                        IngestError(
                            ErrorCode.NESTED_ARCHIVE,
                            f"{m.label}: nested archive not opened",
                            file=m.label,
                            severity=Severity.EXCLUDED,
                        )
                    )
                continue
            yield m.label, data


def extract_zip(
    source: str | Path | io.IOBase,
    dest: str | Path,
    limits: ArchiveLimits | None = None,
    secret: bytes = b"",
    notes: list[IngestError] | None = None,
) -> list[tuple[str, Path]]:
    """Extract into ``dest`` (a temporary folder) under numbered names; return (label, path).

    Files are written as ``dest/000001.dcm``... so no archive-supplied name touches the disk.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    try:
        for i, (label, data) in enumerate(iter_zip(source, limits, secret, notes)):
            p = dest / f"{i:06d}.dcm"
            p.write_bytes(data)
            out.append((label, p))
    except ArchiveError:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return out


def is_dicom_file(path: str | Path) -> bool:
    """``DICM`` marker at byte 128, or a forced parse that yields SOP Class/Instance UIDs."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(132)
    except OSError:
        return False
    if len(head) >= 132 and head[128:132] == b"DICM":
        return True
    try:
        import pydicom

        ds = pydicom.dcmread(
            path, force=True, stop_before_pixels=True, specific_tags=[0x00080016, 0x00080018]
        )
        return bool(ds.get("SOPClassUID")) and bool(ds.get("SOPInstanceUID"))
    except Exception:
        return False


def iter_dicom_files(root: str | Path, *, check: bool = True) -> Iterator[Path]:
    """Walk ``root`` recursively (no symlinks, no hidden entries, no DICOMDIR) in sorted order."""
    root = Path(root)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__MACOSX")
        for name in sorted(filenames):
            if name.startswith(".") or name in _SKIP_NAMES:
                continue
            p = Path(dirpath) / name
            if p.is_symlink() or not p.is_file():
                continue
            if not check or is_dicom_file(p):
                yield p
