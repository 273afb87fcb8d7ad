"""One entry point for the Django service: :func:`prepare_upload`.

Pipeline (nothing is written outside a temporary folder, which is removed before returning, or
the caller's ``workdir``, which the caller removes):

1. Sources: a zip archive (checked and extracted by :mod:`.archives` into a temporary folder
   under numbered names), a folder (walked recursively), one file, a list of paths, or a list
   of ``(name, bytes)`` or ``(name, path)`` pairs (a file labelled by its name; one that is a
   zip archive is extracted the same way).  Every file gets a PHI-safe label
   (:func:`~.errors.safe_file_label`).
2. Pass 1, headers only (``stop_before_pixels``): parse (``not_dicom`` files are left out;
   ``truncated``, ``invalid_value`` and ``unsupported_transfer_syntax`` fail the upload),
   quarantine (``burned_in_annotation``, ``secondary_capture``, ``dose_report``), compute the
   opaque patient key, de-identify the header (so every UID and description used below is
   already the de-identified one), group into series and validate them (:mod:`.series`).
3. Choose the primary axial series (rule in :mod:`.series`; ``options.primary_series`` overrides).
4. Pass 2, full read of the primary series only (or all valid series with
   ``options.load="all"``): parse again, check truncation, de-identify (deterministic, so the
   UIDs equal those of pass 1) and decode the pixels to a HU volume (``undecodable_pixels``).

Progress: ``progress(phase, done, total)``, a plain callable, is called once per file in pass 1
(phase ``"validating"``) and pass 2 (phase ``"de-identifying"``), first with ``done=0``; the
counts only grow within a phase. It must be cheap (the caller throttles any writes); an exception
it raises (a cancelled job) stops the preparation, the temporary folder removed. It receives
counts only, never a file name or any header value.

Severity: problems that make the import unusable are ``error`` (:attr:`PreparedImport.ok` is
False; the caller stores nothing); files and series left out while a valid primary series
remains (a dose screen, a scout with 2 slices, a README in the zip) are ``excluded`` and only
reported.  With ``options.strict`` every problem is an error.
"""

from __future__ import annotations

import functools
import io
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydicom.dataset import Dataset

from .archives import ArchiveLimits, extract_zip, is_zip, iter_dicom_files, looks_like_zip
from .deid import Deidentifier, DeidLog, DeidOptions
from .dicomio import read_dicom
from .errors import (
    ArchiveError,
    DicomIngestError,
    ErrorCode,
    IngestError,
    QuarantineError,
    Severity,
    safe_file_label,
)
from .series import (
    SeriesInfo,
    SeriesLimits,
    SliceHeader,
    assemble_series,
    build_sitk_image,
    choose_primary,
    load_hu_volume,
    write_nifti,
)

if TYPE_CHECKING:
    import SimpleITK as sitk

__all__ = [
    "PHASE_DEIDENTIFYING",
    "PHASE_VALIDATING",
    "IngestOptions",
    "PreparedImport",
    "PreparedSeries",
    "Progress",
    "prepare_upload",
]

Source = (
    str | Path | Sequence[str | Path] | Sequence[tuple[str, bytes]] | Sequence[tuple[str, Path]]
)
Progress = Callable[[str, int, int], None]  # (phase, done, total)
PHASE_VALIDATING = "validating"
PHASE_DEIDENTIFYING = "de-identifying"


_FATAL_FILE_CODES = frozenset(
    {
        ErrorCode.TRUNCATED,
        ErrorCode.INVALID_VALUE,
        ErrorCode.UNSUPPORTED_TRANSFER_SYNTAX,
        ErrorCode.UNDECODABLE_PIXELS,
    }
)


def _no_progress(phase: str, done: int, total: int) -> None:
    return None


@dataclass(frozen=True)
class IngestOptions:
    uid_prefix: str | None = None
    retain_longitudinal_modified_dates: bool = True
    clean_descriptors: bool = True
    retain_patient_characteristics: bool = False
    max_date_shift_days: int = 3650
    archive_limits: ArchiveLimits = field(default_factory=ArchiveLimits)
    series_limits: SeriesLimits = field(default_factory=SeriesLimits)
    primary_series: str | None = None  # original or de-identified SeriesInstanceUID
    target_thickness_mm: float = 5.0
    load: str = "primary"  # "primary" | "all": which series are fully read and decoded
    require_single_patient: bool = True
    strict: bool = False
    volume_dtype: str = "auto"  # "auto" | "float32" | "int16"
    # False: pass 2 leaves the pixels undecoded (PreparedSeries.volume is None) for a caller
    # that decodes each slice while it stores the files (series.HUVolume), holding the series
    # once instead of its pixel data and its volume side by side
    decode_volume: bool = True
    # False (with ``workdir``): pass 2 still reads every file of the series in full (truncation
    # is found before anything is stored) but lets its pixel data go at once;
    # PreparedSeries.full_dataset(k) reads slice k again for a caller that stores the files one
    # at a time, so the series' pixel data is never held whole
    keep_pixels: bool = True


@dataclass
class PreparedSeries:
    """A validated series, de-identified, in memory, sorted along the slice normal."""

    info: SeriesInfo
    patient_key: str
    pseudonym: str
    deid_logs: list[DeidLog]
    volume: np.ndarray | None = None  # HU, (slices, rows, columns)
    reload: Callable[[int], Dataset] | None = None  # set when pass 2 let the pixels go

    def full_dataset(self, k: int) -> Dataset:
        """Slice ``k`` with its pixel data: read again from its file when pass 2 let it go."""
        return self.info.datasets[k] if self.reload is None else self.reload(k)

    @property
    def datasets(self) -> list[Dataset]:
        return self.info.datasets

    @property
    def labels(self) -> list[str]:
        return self.info.labels

    @property
    def study_uid(self) -> str:
        return self.info.study_uid

    @property
    def series_uid(self) -> str:
        return self.info.series_uid

    def iter_files(self) -> Iterator[tuple[str, bytes]]:
        """(file name, Part 10 bytes) of the de-identified instances, in slice order."""
        for i, ds in enumerate(self.info.datasets):
            buffer = io.BytesIO()
            ds.save_as(buffer, enforce_file_format=True)
            yield f"IM{i + 1:04d}.dcm", buffer.getvalue()

    def to_sitk(self) -> sitk.Image:
        return build_sitk_image(self.info, self.volume)

    def write_nifti(self, path: str | Path) -> Path:
        return write_nifti(self.to_sitk(), path)


@dataclass
class PreparedImport:
    series: list[SeriesInfo]  # every series found (no datasets: see _Headers); see .summary()
    primary: PreparedSeries | None
    loaded: list[PreparedSeries]  # primary first, then others when options.load == "all"
    errors: list[IngestError]  # every problem, with severity
    n_files: int = 0
    patient_keys: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.primary is not None and not any(
            e.severity == Severity.ERROR for e in self.errors
        )

    @property
    def fatal_errors(self) -> list[IngestError]:
        return [e for e in self.errors if e.severity == Severity.ERROR]

    @property
    def deid_logs(self) -> list[DeidLog]:
        return [log for s in self.loaded for log in s.deid_logs]

    def raise_for_errors(self) -> None:
        fatal = self.fatal_errors
        if fatal:
            raise DicomIngestError(fatal[0])
        if self.primary is None:
            raise DicomIngestError(
                IngestError(ErrorCode.NO_PRIMARY_SERIES, "no primary series was prepared")
            )

    def summary(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "n_files": self.n_files,
            "primary": self.primary.series_uid if self.primary else None,
            "series": [s.summary() for s in self.series],
            "errors": [e.as_dict() for e in self.errors],
        }


# ------------------------------------------------------------------------------------------


@dataclass
class _File:
    label: str
    source: Path | bytes


def _collect(
    source: Source, tmp: Path, opts: IngestOptions, secret: bytes, notes: list[IngestError]
) -> list[_File]:
    files = _collect_raw(source, tmp, opts, secret, notes)
    # identical labels (duplicate names in a zip, hashed names) get a position suffix
    seen: dict[str, int] = {}
    for f in files:
        n = seen.get(f.label, 0)
        seen[f.label] = n + 1
        if n:
            f.label = f"{f.label}#{n + 1}"
    return files


def _collect_raw(
    source: Source, tmp: Path, opts: IngestOptions, secret: bytes, notes: list[IngestError]
) -> list[_File]:
    files: list[_File] = []
    if isinstance(source, str | Path):
        p = Path(source)
        if p.is_dir():
            for f in iter_dicom_files(p, check=False):
                files.append(_File(safe_file_label(str(f.relative_to(p)), secret), f))
        elif is_zip(p):
            for label, fp in extract_zip(p, tmp / "zip", opts.archive_limits, secret, notes):
                files.append(_File(label, fp))
        else:
            files.append(_File(safe_file_label(p.name, secret), p))
        return files
    for index, item in enumerate(source):
        if isinstance(item, tuple) and isinstance(item[1], Path):
            name, path = item  # a file on disk under its uploaded name
            if is_zip(path):
                for label, fp in extract_zip(
                    path, tmp / f"zip{index}", opts.archive_limits, secret, notes
                ):
                    files.append(_File(label, fp))
            else:
                files.append(_File(safe_file_label(str(name), secret), path))
        elif isinstance(item, tuple):
            name, data = item
            if looks_like_zip(bytes(data[:132])):
                dest = tmp / f"zip{index}"
                for label, fp in extract_zip(
                    io.BytesIO(data), dest, opts.archive_limits, secret, notes
                ):
                    files.append(_File(label, fp))
                continue
            files.append(_File(safe_file_label(str(name), secret), bytes(data)))
        else:
            p = Path(item)
            if p.is_dir():
                for f in iter_dicom_files(p, check=False):
                    files.append(_File(safe_file_label(str(f.relative_to(p)), secret), f))
            else:
                files.append(_File(safe_file_label(p.name, secret), p))
    return files


def prepare_upload(
    source: Source,
    *,
    pseudonym_for: Callable[[str], str],
    secret: bytes,
    options: IngestOptions | None = None,
    progress: Progress | None = None,
    workdir: Path | None = None,
) -> PreparedImport:
    """Validate, de-identify and assemble an upload (see module doc).

    ``pseudonym_for(patient_key)`` receives an opaque keyed hash of the original patient
    identity (never the PatientID itself) and returns the pseudonym written to PatientName and
    PatientID (e.g. the case code).  ``secret`` keys UIDs, date offsets, patient keys and
    hashed file labels (>= 16 bytes; keep it per site, never in the database next to the data).
    ``progress(phase, done, total)`` is told how far passes 1 and 2 are (see module doc).
    ``workdir``: an existing folder the caller removes, used instead of a temporary one, so
    extracted files outlive the call (needed by ``keep_pixels=False``).
    """
    opts = options or IngestOptions()
    if not opts.keep_pixels and workdir is None:
        raise ValueError("keep_pixels=False needs a workdir that the caller keeps")
    if workdir is not None:
        return _prepare(source, workdir, opts, pseudonym_for, secret, progress)
    with tempfile.TemporaryDirectory(prefix="rs-ingest-") as tmpdir:
        return _prepare(source, Path(tmpdir), opts, pseudonym_for, secret, progress)


def _prepare(
    source: Source,
    tmp: Path,
    opts: IngestOptions,
    pseudonym_for: Callable[[str], str],
    secret: bytes,
    progress: Progress | None,
) -> PreparedImport:
    report = progress or _no_progress
    deid = _deidentifier(secret, opts)
    errors: list[IngestError] = []

    @functools.cache
    def pseudonym(key: str) -> str:
        return str(pseudonym_for(key))

    try:
        files = _collect(source, tmp, opts, secret, errors)
    except ArchiveError as exc:
        return PreparedImport([], None, [], [exc.error], 0)
    headers = _read_headers(files, deid, pseudonym, report, errors)
    if not headers.records:
        errors.append(
            IngestError(ErrorCode.NO_SERIES, f"no usable DICOM image among {len(files)} file(s)")
        )
        return PreparedImport([], None, [], _finalize(errors, opts), len(files))
    series = assemble_series(headers.records, opts.series_limits, headers.patient_of)
    headers.records.clear()
    keys = sorted(set(headers.patient_of.values()))
    if opts.require_single_patient and len(keys) > 1:
        errors.append(
            IngestError(
                ErrorCode.MIXED_PATIENTS,
                f"the upload holds images of {len(keys)} different patients",
            )
        )
    primary_info = _choose(series, deid, opts, errors)
    primary, loaded = _load_chosen(
        series, primary_info, headers, deid, pseudonym, opts, report, errors
    )
    return PreparedImport(series, primary, loaded, _finalize(errors, opts), len(files), keys)


def _deidentifier(secret: bytes, opts: IngestOptions) -> Deidentifier:
    return Deidentifier(
        DeidOptions(
            secret=secret,
            uid_prefix=opts.uid_prefix,
            retain_longitudinal_modified_dates=opts.retain_longitudinal_modified_dates,
            clean_descriptors=opts.clean_descriptors,
            retain_patient_characteristics=opts.retain_patient_characteristics,
            max_date_shift_days=opts.max_date_shift_days,
        )
    )


@dataclass
class _Headers:
    """Pass 1's result: what series assembly reads of each usable file's de-identified header.

    A :class:`~.series.SliceHeader` per file, not its Dataset: an upload of many series would
    otherwise hold every file's header until the series are assembled, and the allocator keeps
    that heap under the volume built later.  Pass 2 reads the chosen series' files again.
    """

    records: list[tuple[str, SliceHeader]] = field(default_factory=list)
    by_label: dict[str, _File] = field(default_factory=dict)
    patient_of: dict[str, str] = field(default_factory=dict)  # label -> opaque patient key


def _read_headers(
    files: list[_File],
    deid: Deidentifier,
    pseudonym: Callable[[str], str],
    report: Progress,
    errors: list[IngestError],
) -> _Headers:
    """Pass 1: read, quarantine and de-identify every file's header."""
    headers = _Headers()
    report(PHASE_VALIDATING, 0, len(files))
    for index, f in enumerate(files, 1):
        if index > 1:
            report(PHASE_VALIDATING, index - 1, len(files))
        try:
            ds = read_dicom(f.source, label=f.label, stop_before_pixels=True)
            key = deid.patient_key(ds)
            deid.deidentify(ds, pseudonym=pseudonym(key), label=f.label)
            record = SliceHeader.of(ds)
            del ds
        except QuarantineError as exc:
            errors.append(exc.error.excluded())
            continue
        except DicomIngestError as exc:
            # unreadable non-DICOM files are left out; a DICOM file that cannot be read
            # reliably (truncated, corrupt value, unsupported encoding) fails the upload
            fatal = exc.code in _FATAL_FILE_CODES
            errors.append(exc.error if fatal else exc.error.excluded())
            continue
        headers.records.append((f.label, record))
        headers.by_label[f.label] = f
        headers.patient_of[f.label] = key
    report(PHASE_VALIDATING, len(files), len(files))
    return headers


def _choose(
    series: list[SeriesInfo], deid: Deidentifier, opts: IngestOptions, errors: list[IngestError]
) -> SeriesInfo | None:
    """The primary series; the other series' problems are reported as excluded.

    Without a primary series, a series refused for its gantry tilt is an error of the upload
    (listed first: it says why), not only an excluded series.
    """
    alternatives = []
    if opts.primary_series:
        alternatives.append(deid.remapper.remap(opts.primary_series))
    primary_info, perr = choose_primary(
        series,
        override=opts.primary_series,
        override_alternatives=alternatives,
        target_thickness_mm=opts.target_thickness_mm,
    )
    tilted = [
        e
        for s in series
        for e in s.errors
        if primary_info is None and e.code == ErrorCode.GANTRY_TILT
    ]
    errors.extend(tilted)
    if perr is not None:
        errors.append(perr)
    for s in series:
        sev = Severity.ERROR if s is primary_info else Severity.EXCLUDED
        for e in s.errors:
            if e not in tilted:
                errors.append(e if sev == Severity.ERROR else e.excluded())
    return primary_info


def _load_chosen(
    series: list[SeriesInfo],
    primary_info: SeriesInfo | None,
    headers: _Headers,
    deid: Deidentifier,
    pseudonym: Callable[[str], str],
    opts: IngestOptions,
    report: Progress,
    errors: list[IngestError],
) -> tuple[PreparedSeries | None, list[PreparedSeries]]:
    """Pass 2: full read of the primary series (and, with ``load="all"``, every valid one)."""
    to_load = []
    if primary_info is not None and primary_info.ok:
        to_load.append(primary_info)
    if opts.load == "all":
        to_load += [s for s in series if s.ok and s is not primary_info]
    loaded: list[PreparedSeries] = []
    primary: PreparedSeries | None = None
    counter = _Counter(report, PHASE_DEIDENTIFYING, sum(len(s.labels) for s in to_load))
    for info in to_load:
        is_primary = info is primary_info
        prepared = _load_series(
            info, headers.by_label, headers.patient_of, deid, pseudonym, opts, counter
        )
        if isinstance(prepared, IngestError):
            errors.append(prepared if is_primary else prepared.excluded())
            continue
        loaded.append(prepared)
        if is_primary:
            primary = prepared
    return primary, loaded


class _Counter:
    """Counts files of a phase for the progress callback; ``done`` never goes down."""

    def __init__(self, report: Progress, phase: str, total: int):
        self.report, self.phase, self.total, self.done = report, phase, total, 0
        report(phase, 0, total)

    def step(self) -> None:
        self.done = min(self.done + 1, self.total)
        self.report(self.phase, self.done, self.total)

    def skip(self, n: int) -> None:
        """Files of a series that stopped early count as handled."""
        self.done = min(self.done + n, self.total)
        self.report(self.phase, self.done, self.total)


def _finalize(errors: list[IngestError], opts: IngestOptions) -> list[IngestError]:
    if not opts.strict:
        return errors
    return [
        IngestError(e.code, e.message, e.file, e.series, e.slices, Severity.ERROR, e.extra)
        for e in errors
    ]


def _load_series(
    info: SeriesInfo,
    by_label: dict[str, _File],
    patient_of: dict[str, str],
    deid: Deidentifier,
    pseudonym: Callable[[str], str],
    opts: IngestOptions,
    counter: _Counter,
) -> PreparedSeries | IngestError:
    full: list[Dataset] = []
    logs: list[DeidLog] = []
    key = patient_of[info.labels[0]]
    try:
        for label in info.labels:
            ds = read_dicom(by_label[label].source, label=label)
            logs.append(deid.deidentify(ds, pseudonym=pseudonym(key), label=label))
            if not opts.keep_pixels:
                del ds.PixelData  # read in full (not truncated); read again when stored
            full.append(ds)
            counter.step()
    except DicomIngestError as exc:
        counter.skip(len(info.labels) - len(full))
        e = exc.error
        return IngestError(
            e.code, e.message, e.file, info.series_uid, e.slices, e.severity, e.extra
        )
    # same labels, same order: replace the header-only datasets by the full ones
    loaded_info = SeriesInfo(**{**info.__dict__, "datasets": full, "errors": list(info.errors)})
    if not opts.keep_pixels:
        reload = _reader(loaded_info, by_label, deid, pseudonym(key))
        return PreparedSeries(loaded_info, key, pseudonym(key), logs, None, reload)
    if not opts.decode_volume:
        return PreparedSeries(loaded_info, key, pseudonym(key), logs, None)
    try:
        volume = load_hu_volume(loaded_info, dtype=opts.volume_dtype)
    except DicomIngestError as exc:
        return exc.error
    return PreparedSeries(loaded_info, key, pseudonym(key), logs, volume)


def _reader(
    info: SeriesInfo, by_label: dict[str, _File], deid: Deidentifier, pseudonym: str
) -> Callable[[int], Dataset]:
    """Slice k of a series read again in full and de-identified as in pass 2 (deterministic)."""

    def reload(k: int) -> Dataset:
        label = info.labels[k]
        ds = read_dicom(by_label[label].source, label=label)
        deid.deidentify(ds, pseudonym=pseudonym, label=label)
        return ds

    return reload
