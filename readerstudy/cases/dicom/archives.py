"""Safe handling of uploaded zip archives and folders of DICOM files.

Zip archives are checked as a whole before anything is read (:func:`inspect_zip`): member
names must be relative and stay inside the archive (no ``..``, absolute paths, drive letters,
NUL bytes), members must not be encrypted or symbolic links, and the declared sizes must stay
within :class:`ArchiveLimits`.  The declared sizes are not trusted beyond that: members are
then read in chunks (:func:`extract_zip` streams them into numbered files of a temporary
folder, :func:`iter_zip` into memory) and the bytes actually produced are counted against the
same limits, stopping at the first chunk past one.  Nested archives (``.zip`` members or
members starting with a zip signature, unless they carry the DICOM marker at byte 128) are
**not** followed; they are reported as ``nested_archive`` and skipped.  Any other violation
raises :class:`~.errors.ArchiveError` and nothing from the archive is used.

Default limits (all configurable; the Django settings pass the total limits in):

=====================  ==========  ==============================================================
``max_members``        20 000      files in one archive (a head CT study: ~200-2000)
``max_member_bytes``   256 MiB     one uncompressed member
``max_total_bytes``    4 GiB       all members together, uncompressed
``max_total_ratio``    50          all members together / size of the archive file
``max_ratio``          200         uncompressed / compressed size, for every member (CT slices
                                   deflate 2-10x; a block of zeros about 1000x)
=====================  ==========  ==============================================================

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
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from .errors import ArchiveError, ErrorCode, IngestError, Severity, safe_file_label

__all__ = [
    "ArchiveLimits",
    "ArchiveMember",
    "extract_zip",
    "inspect_zip",
    "is_dicom_file",
    "is_zip",
    "iter_dicom_files",
    "looks_like_zip",
    "iter_zip",
]

MiB = 1024 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    max_members: int = 20_000
    max_member_bytes: int = 256 * MiB
    max_total_bytes: int = 4 * 1024 * MiB
    max_total_ratio: float = 50.0
    max_ratio: float = 200.0

    def total_budget(self, archive_bytes: int) -> int:
        """Bytes all members may expand to, for an archive file of ``archive_bytes``."""
        return int(min(self.max_total_bytes, self.max_total_ratio * max(archive_bytes, 1)))


@dataclass(frozen=True)
class ArchiveMember:
    name: str  # normalised relative POSIX path inside the archive
    label: str  # safe display label (see errors.safe_file_label)
    info: zipfile.ZipInfo


_DRIVE = re.compile(r"^[A-Za-z]:")
_SKIP_NAMES = {"DICOMDIR", ".DS_Store", "Thumbs.db", "desktop.ini"}


def looks_like_zip(head: bytes) -> bool:
    """Zip signature at the start, and not a DICOM file (whose free preamble could hold one)."""
    return head[:4] in (b"PK\x03\x04", b"PK\x05\x06") and head[128:132] != b"DICM"


def is_zip(path: str | Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(132)
    except OSError:
        return False
    return looks_like_zip(head)


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
    zf: zipfile.ZipFile,
    limits: ArchiveLimits | None = None,
    secret: bytes = b"",
    archive_bytes: int | None = None,
) -> tuple[list[ArchiveMember], list[IngestError]]:
    """Validate the whole archive from its directory; return (members to read, notes).

    ``archive_bytes`` (the archive file's size) bounds the total by ``max_total_ratio``.
    """
    lim = limits or ArchiveLimits()
    budget = lim.max_total_bytes if archive_bytes is None else lim.total_budget(archive_bytes)
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
        if total > budget:
            raise _fail(ErrorCode.ZIP_BOMB, f"archive expands to more than {budget} bytes")
        _check_ratio(info.file_size, info.compress_size, lim, label)
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


def _check_ratio(produced: int, compressed: int, lim: ArchiveLimits, label: str) -> None:
    ratio = produced / max(1, compressed)
    if ratio > lim.max_ratio:
        raise _fail(
            ErrorCode.ZIP_BOMB,
            f"member {label} has compression ratio above {lim.max_ratio:.0f}",
            label,
        )


def _archive_size(source: str | Path | io.IOBase) -> int:
    if isinstance(source, str | Path):
        return os.path.getsize(source)
    position = source.tell()
    size = source.seek(0, os.SEEK_END)
    source.seek(position)
    return size


def _copy_member(
    zf: zipfile.ZipFile, m: ArchiveMember, out: BinaryIO, lim: ArchiveLimits, budget: list[int]
) -> bytes:
    """Stream one member into ``out``; stop at the first chunk past a limit. Return its head."""
    cap = min(m.info.file_size, lim.max_member_bytes)
    got = 0
    head = b""
    try:
        with zf.open(m.info) as fh:
            while chunk := fh.read(min(1 * MiB, cap - got + 1)):
                got += len(chunk)
                budget[0] -= len(chunk)
                if got > cap:
                    raise _fail(
                        ErrorCode.ZIP_BOMB, f"member {m.label} expands beyond its size", m.label
                    )
                if budget[0] < 0:
                    raise _fail(ErrorCode.ZIP_BOMB, "archive expands beyond its limit", m.label)
                _check_ratio(got, m.info.compress_size, lim, m.label)
                if len(head) < 132:
                    head += chunk[: 132 - len(head)]
                out.write(chunk)
    except ArchiveError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, zlib.error):
        raise _fail(ErrorCode.BAD_ARCHIVE, f"member {m.label} cannot be read", m.label) from None
    except RuntimeError:  # e.g. encrypted without the flag
        raise _fail(
            ErrorCode.ENCRYPTED_MEMBER, f"member {m.label} cannot be read", m.label
        ) from None
    return head


def _nested(m: ArchiveMember) -> IngestError:
    return IngestError(
        ErrorCode.NESTED_ARCHIVE,
        f"{m.label}: nested archive not opened",
        file=m.label,
        severity=Severity.EXCLUDED,
    )


def _members(
    source: str | Path | io.IOBase,
    lim: ArchiveLimits,
    secret: bytes,
    notes: list[IngestError] | None,
) -> Iterator[tuple[zipfile.ZipFile, ArchiveMember, list[int]]]:
    """Open the archive, validate its directory; yield (zipfile, member, budget) to read."""
    try:
        size = _archive_size(source)
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _fail(ErrorCode.BAD_ARCHIVE, "the upload is not a readable zip archive") from None
    with zf:
        members, found = inspect_zip(zf, lim, secret, size)
        if notes is not None:
            notes.extend(found)
        budget = [lim.total_budget(size)]
        for m in members:
            yield zf, m, budget


def iter_zip(
    source: str | Path | io.IOBase,
    limits: ArchiveLimits | None = None,
    secret: bytes = b"",
    notes: list[IngestError] | None = None,
) -> Iterator[tuple[str, bytes]]:
    """Yield (member label, bytes) for each regular member; raise ArchiveError if unsafe.

    The label is the PHI-safe display name (see :func:`~.errors.safe_file_label`).  Nested
    archives found while reading are appended to ``notes`` and skipped.  Each member is held in
    memory while it is used; :func:`extract_zip` keeps them on disk instead.
    """
    lim = limits or ArchiveLimits()
    for zf, m, budget in _members(source, lim, secret, notes):
        buffer = io.BytesIO()
        head = _copy_member(zf, m, buffer, lim, budget)
        if looks_like_zip(head):
            if notes is not None:
                notes.append(_nested(m))
            continue
        yield m.label, buffer.getvalue()


def extract_zip(
    source: str | Path | io.IOBase,
    dest: str | Path,
    limits: ArchiveLimits | None = None,
    secret: bytes = b"",
    notes: list[IngestError] | None = None,
) -> list[tuple[str, Path]]:
    """Extract into ``dest`` (a temporary folder) under numbered names; return (label, path).

    Files are written as ``dest/000001.dcm``... so no archive-supplied name touches the disk;
    members are streamed to disk, never held in memory whole.  On an ArchiveError ``dest`` is
    removed.
    """
    lim = limits or ArchiveLimits()
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    out: list[tuple[str, Path]] = []
    try:
        for zf, m, budget in _members(source, lim, secret, notes):
            p = dest / f"{len(out):06d}.dcm"
            with open(p, "wb") as fh:
                head = _copy_member(zf, m, fh, lim, budget)
            if looks_like_zip(head):
                p.unlink()
                if notes is not None:
                    notes.append(_nested(m))
                continue
            out.append((m.label, p))
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
