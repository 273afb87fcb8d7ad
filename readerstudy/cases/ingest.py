"""The one ingest service under upload, folder import and PACS import.

``import_study(source)`` de-identifies and validates everything in memory first (``cases.dicom``),
then writes content-addressed files to storage and the rows in one transaction. The primary
series' pixels are decoded to its HU volume while its files are stored, each file's pixel data
let go once stored, so the series is held about once (not its pixel data and its volume side
by side); a slice that cannot be decoded fails the import then (``undecodable_pixels``). If anything
fails after files were written, the files this call created are deleted again, so a failed
import leaves database and storage as they were. The same study imported again (same
de-identified StudyInstanceUID, which is a keyed function of the original) returns the existing
case instead of a duplicate.

Values reach the rows checked by the core (``cases.dicom.values``: numbers parse, are finite
and fit their int4/float columns, or the file is refused as ``invalid_value``). Descriptive
texts (scanner, series description, collection name) are cut to their column's length; the
UIDs stored are the de-identified ones, which always fit.

``progress(phase, done, total)``, when given, hears the core's ``validating`` and
``de-identifying`` counts and then ``storing`` (files written, then the rows).
"""

import hashlib
import io
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from .dicom import ArchiveLimits, DicomIngestError, IngestOptions, Progress, prepare_upload
from .dicom.series import HUVolume, volume_suffix, write_nifti
from .errors import ImportFailed
from .models import Case, Collection, DeidentificationLog, Instance, Series
from .secrets import deid_secret, keyed_code
from .storage import (
    content_name,
    file_content_name,
    save_content_addressed,
    save_content_addressed_file,
)

log = logging.getLogger(__name__)
PIXEL_DATA = 0x7FE00010
PHASE_STORING = "storing"


@dataclass
class ImportOutcome:
    case: Case
    created: bool
    excluded: list[dict] = field(default_factory=list)


def _options(primary_series: str | None) -> IngestOptions:
    return IngestOptions(
        uid_prefix=settings.READERSTUDY_UID_PREFIX,
        primary_series=primary_series,
        archive_limits=ArchiveLimits(
            max_total_bytes=settings.ARCHIVE_MAX_EXPANDED_BYTES,
            max_total_ratio=settings.ARCHIVE_MAX_RATIO,
        ),
        decode_volume=False,  # decoded slice by slice while storing (import_study)
        keep_pixels=False,  # and read again from the file for it
    )


def _cut(model, field: str, text: str) -> str:
    """A descriptive text cut to its column's length (numbers and UIDs are checked instead)."""
    return text[: model._meta.get_field(field).max_length]


def _patient_pseudonym(patient_key: str) -> str:
    return "P-" + keyed_code("patient", patient_key)


def case_code_for(study_uid: str) -> str:
    return "RS-" + keyed_code("case", study_uid, 8)


def _encode_uncompressed(ds) -> bytes:
    if ds.file_meta.TransferSyntaxUID.is_compressed:
        ds.decompress()
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _pixel_location(data: bytes) -> tuple[int, int]:
    """Byte offset and length of the native PixelData value inside a Part 10 file.

    The file was just written by pydicom (explicit or implicit VR little endian, native pixels):
    reading it with ``stop_before_pixels`` leaves the stream at the PixelData element's tag.
    """
    stream = io.BytesIO(data)
    parsed = pydicom.dcmread(stream, stop_before_pixels=True)
    position = stream.tell()
    if data[position : position + 4] != b"\xe0\x7f\x10\x00":
        position = data.rfind(b"\xe0\x7f\x10\x00")
    if position < 0:
        raise ValueError("pixel data is missing")
    if parsed.file_meta.TransferSyntaxUID == pydicom.uid.ImplicitVRLittleEndian:
        length = int.from_bytes(data[position + 4 : position + 8], "little")
        offset = position + 8
    else:
        length = int.from_bytes(data[position + 8 : position + 12], "little")
        offset = position + 12
    if length == 0xFFFFFFFF or offset + length > len(data):
        raise ValueError("pixel data is encapsulated or truncated")
    return offset, length


def _metadata_json(ds) -> dict:
    header = ds.copy()
    if "PixelData" in header:
        del header.PixelData
    return header.to_json_dict()


def import_study(
    source,
    *,
    collection: Collection | None = None,
    collection_name: str | None = None,
    primary_series: str | None = None,
    progress: Progress | None = None,
) -> ImportOutcome:
    """Import one study (files, a folder or a zip). Raises ImportFailed; stores nothing then.

    ``collection_name`` names a collection created (if missing) with the new case's rows, so a
    refused import creates none.
    """
    # The extracted files outlive preparation: each slice's pixels are read again while it is
    # stored, so the series' pixel data is never held whole (IngestOptions.keep_pixels).
    with tempfile.TemporaryDirectory(prefix="rs-import-") as workdir:
        prepared = prepare_upload(
            source,
            pseudonym_for=_patient_pseudonym,
            secret=deid_secret(),
            options=_options(primary_series),
            progress=progress,
            workdir=Path(workdir),
        )
        primary, excluded = _primary_or_refusal(prepared)
        del prepared  # the headers of every file of the upload: only the primary series is stored
        return _store(primary, excluded, collection, collection_name, progress)


def _primary_or_refusal(prepared) -> tuple:
    """The primary series and the problems left out, or ImportFailed naming what failed."""
    if not prepared.ok:
        fatal = [e.as_dict() for e in prepared.fatal_errors] or [
            {"code": "no_primary_series", "message": "no usable series"}
        ]
        # Also list what was left out: it usually says why no series was usable.
        others = [e.as_dict() for e in prepared.errors if e not in prepared.fatal_errors]
        raise ImportFailed(fatal[0]["message"], fatal + others)
    assert prepared.primary is not None  # prepared.ok
    excluded = [e.as_dict() for e in prepared.errors if e not in prepared.fatal_errors]
    return prepared.primary, excluded


def _store(primary, excluded, collection, collection_name, progress) -> ImportOutcome:
    source_key = hashlib.sha256(primary.study_uid.encode()).hexdigest()
    n_files = len(primary.datasets)
    report = progress or (lambda phase, done, total: None)
    existing = Case.objects.filter(source_key=source_key).first()
    if existing is not None:
        report(PHASE_STORING, n_files, n_files)
        return ImportOutcome(existing, False, excluded)

    created_files: list[str] = []
    try:
        files = []
        volume = HUVolume(primary.info)
        report(PHASE_STORING, 0, n_files)
        for k, deid_log in enumerate(primary.deid_logs):
            ds = primary.full_dataset(k)  # with its pixels, read again from the file
            volume.add(k, ds)  # its HU slice (raises undecodable_pixels)
            data = _encode_uncompressed(ds)
            del ds.PixelData  # stored and in the volume; the rows need the header only
            offset, length = _pixel_location(data)
            name = content_name("dicom", data, ".dcm")
            if not default_storage.exists(name):
                created_files.append(name)
            stored, digest = save_content_addressed("dicom", data, ".dcm")
            files.append((ds, deid_log, stored, digest, len(data), offset, length))
            del data
            # the last step is counted once the rows are in
            report(PHASE_STORING, min(len(files), n_files - 1), n_files)
        volume_name = _store_volume(volume, created_files)
        case = _store_rows(primary, files, volume_name, source_key, collection, collection_name)
        report(PHASE_STORING, n_files, n_files)
    except DicomIngestError as exc:  # a slice of the primary series cannot be decoded
        _delete(created_files)
        raise ImportFailed(exc.error.message, [exc.error.as_dict(), *excluded]) from None
    except IntegrityError:
        # Another process imported the same study at the same moment: theirs stands.
        _delete(created_files)
        existing = Case.objects.filter(source_key=source_key).first()
        if existing is None:
            raise
        return ImportOutcome(existing, False, excluded)
    except Exception:
        _delete(created_files)
        raise
    return ImportOutcome(case, True, excluded)


def _store_volume(volume: HUVolume, created_files: list[str]) -> str:
    """The series' volume, written to a temporary file and streamed to storage.

    NIfTI, or MetaImage for a tilted series (its sheared grid; ``cases.dicom.series``). The
    volume reaches SimpleITK through a raw file (the numpy array let go first), so it is held
    once at a time.
    """
    suffix = volume_suffix(volume.info)
    with tempfile.TemporaryDirectory(prefix="rs-volume-") as tmp:
        image = volume.to_sitk(tmp)
        path = write_nifti(image, Path(tmp) / f"volume{suffix}")
        del image
        name, _ = file_content_name("volumes", path, suffix)
        if not default_storage.exists(name):
            created_files.append(name)
        save_content_addressed_file(name, path)
    return name


def _delete(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            log.warning("could not remove %s after a failed import", name)


def collection_named(name: str | None) -> Collection | None:
    name = (name or "").strip()
    if not name:
        return None
    return Collection.objects.get_or_create(name=_cut(Collection, "name", name))[0]


@transaction.atomic
def _store_rows(primary, files, volume_name, source_key, collection, collection_name) -> Case:
    info = primary.info
    first = primary.datasets[0]
    scanner = " ".join(str(first.get(k, "")) for k in ("Manufacturer", "ManufacturerModelName"))
    case = Case.objects.create(
        code=case_code_for(primary.study_uid),
        source_key=source_key,
        collection=collection or collection_named(collection_name),
        scanner=_cut(Case, "scanner", scanner.strip()),
    )
    series = Series.objects.create(
        case=case,
        study_instance_uid=info.study_uid,
        series_instance_uid=info.series_uid,
        frame_of_reference_uid=info.frame_uid,
        modality=info.modality,
        series_number=info.series_number,
        description=_cut(Series, "description", info.description),
        rows=info.rows,
        columns=info.columns,
        num_slices=info.n_slices,
        pixel_spacing_row=info.pixel_spacing[0],
        pixel_spacing_col=info.pixel_spacing[1],
        slice_spacing=info.slice_spacing,
        slice_thickness=info.slice_thickness,
        gantry_tilt=info.gantry_tilt,
        orientation=list(info.orientation),
        origin=list(info.origin),
        volume=volume_name,
        content_hash=hashlib.sha256("".join(f[3] for f in files).encode()).hexdigest(),
    )
    instances = Instance.objects.bulk_create(
        Instance(
            series=series,
            sop_instance_uid=str(ds.SOPInstanceUID),
            sop_class_uid=str(ds.SOPClassUID),
            transfer_syntax_uid=str(ds.file_meta.TransferSyntaxUID),
            position=position,
            instance_number=ds.get("InstanceNumber"),
            file=stored,
            sha256=digest,
            size=size,
            pixel_offset=offset,
            pixel_length=length,
            metadata=_metadata_json(ds),
        )
        for position, (ds, _, stored, digest, size, offset, length) in enumerate(files)
    )
    DeidentificationLog.objects.bulk_create(
        DeidentificationLog(
            instance=instance,
            profile="PS3.15 Basic Application Level Confidentiality Profile",
            actions=entry[1].as_dict(),
        )
        for instance, entry in zip(instances, files)
    )
    case.primary_series = series
    case.save(update_fields=["primary_series"])
    return case
