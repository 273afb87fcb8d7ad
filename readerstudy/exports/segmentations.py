"""Reader segmentations of a study (the ``segmentation`` of ``marks`` answers): as DICOM SEG
(highdicom, referencing the case's de-identified series) and as Dice analyses against other
readers, the reader's own earlier segmentation, the ground truth and the model's mask.

A segmentation is a mask on the grid of the case's primary series, stored by the reading app
(``file`` a storage name, ``sha256`` its content hash); a file whose hash differs is refused.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import highdicom as hd
import numpy as np
import pydicom
from django.conf import settings
from django.core.files.storage import default_storage
from pydicom.sr.coding import Code
from pydicom.uid import PYDICOM_ROOT_UID, generate_uid

from readerstudy.ai import selectors as ai_selectors
from readerstudy.ai.outputs import read_volume
from readerstudy.analysis.segmentation_dice import Segmentation
from readerstudy.cases.models import HematomaMask
from readerstudy.reading.models import AnswerRevision
from readerstudy.studies.errors import NotAvailable, ProtocolConflict
from readerstudy.studies.models import Assignment, AssistanceConfig, ReaderStudy

from .froc_data import marks_question, scoring_of

HEMORRHAGE = Code("50960005", "SCT", "Hemorrhage")
ALTERED_STRUCTURE = Code("49755003", "SCT", "Morphologically Altered Structure")


@dataclass(frozen=True)
class ReaderSegmentation:
    assignment: Assignment
    file: str
    sha256: str
    voxels: int = 0


def _locked_answers(study: ReaderStudy) -> dict[int, dict]:
    out: dict[int, dict] = {}
    for rev in AnswerRevision.objects.filter(
        assignment__study=study, kind=AnswerRevision.Kind.LOCK
    ).order_by("assignment_id", "number"):
        out[rev.assignment_id] = rev.answers or {}
    return out


def reader_segmentations(study: ReaderStudy) -> list[ReaderSegmentation]:
    """The segmentation of every locked read that has one."""
    code = marks_question(study, scoring_of(study).question_code).code
    answers = _locked_answers(study)
    found = []
    reads = (
        Assignment.objects.filter(study=study, state=Assignment.State.LOCKED)
        .select_related("reader__user", "study_case__case__primary_series", "session")
        .order_by("reader__user__username", "session__index", "position")
    )
    for a in reads:
        seg = (answers.get(a.pk, {}).get(code) or {}).get("segmentation")
        if seg:
            found.append(
                ReaderSegmentation(
                    a, str(seg["file"]), str(seg["sha256"]), int(seg.get("voxels") or 0)
                )
            )
    return found


def _mask(seg: ReaderSegmentation) -> np.ndarray:
    with default_storage.open(seg.file, "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()
    if digest != seg.sha256:
        raise ProtocolConflict(
            "segmentation_changed",
            f"the stored segmentation of read {seg.assignment.pk} does not match its sha256",
        )
    return np.asarray(read_volume(seg.file).array) > 0


def _uid(seg: ReaderSegmentation, what: str) -> str:
    prefix = settings.READERSTUDY_UID_PREFIX or PYDICOM_ROOT_UID
    return generate_uid(
        prefix.rstrip(".") + ".", entropy_srcs=[seg.sha256, str(seg.assignment.pk), what]
    )


def segmentation_seg(study: ReaderStudy, assignment_id: int) -> tuple[str, bytes]:
    """(file name, DICOM SEG bytes) of one read's segmentation."""
    seg = next((s for s in reader_segmentations(study) if s.assignment.pk == assignment_id), None)
    if seg is None:
        raise NotAvailable("no_segmentation", "this study has no locked segmentation for that read")
    a = seg.assignment
    return f"{a.study_case.case.code}-{a.reader.user.username}-{a.condition}-seg.dcm", seg_bytes(
        seg
    )


def seg_bytes(seg: ReaderSegmentation) -> bytes:
    """One read's segmentation as a binary DICOM SEG referencing the case's series."""
    a = seg.assignment
    series = a.study_case.case.primary_series
    instances = list(series.instances.order_by("position")) if series else []
    if not instances:
        raise ProtocolConflict("no_images", f"case {a.study_case.case.code} has no stored images")
    datasets = []
    for instance in instances:
        with default_storage.open(instance.file, "rb") as fh:
            datasets.append(pydicom.dcmread(fh))
    mask = _mask(seg)
    expected = (len(datasets), int(datasets[0].Rows), int(datasets[0].Columns))
    if mask.shape != expected:
        raise ProtocolConflict(
            "segmentation_grid",
            f"the segmentation has shape {mask.shape}, the series is {expected}",
        )
    description = hd.seg.SegmentDescription(
        segment_number=1,
        segment_label="Hematoma",
        segmented_property_category=ALTERED_STRUCTURE,
        segmented_property_type=HEMORRHAGE,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
    )
    reader = a.reader.user.username
    dataset = hd.seg.Segmentation(
        source_images=datasets,
        pixel_array=mask,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[description],
        series_instance_uid=_uid(seg, "seg-series"),
        series_number=801,
        sop_instance_uid=_uid(seg, "seg"),
        instance_number=1,
        manufacturer="readerstudy",
        manufacturer_model_name="readerstudy reader segmentation",
        software_versions="1",
        device_serial_number="reader",
        series_description=f"Reader {reader} {a.condition}"[:64],
        content_creator_name=pydicom.valuerep.PersonName(f"{reader[:60]}^"),  # a family name
        omit_empty_frames=False,
    )
    return _encode(dataset, seg)


def _encode(dataset: pydicom.Dataset, seg: ReaderSegmentation) -> bytes:
    """Serialize with the time stamps and generated UIDs taken from the read, so the same
    segmentation always exports to the same bytes."""
    a = seg.assignment
    stamp = a.locked_at or a.submitted_at or a.started_at
    if stamp is not None:
        dataset.ContentDate = stamp.strftime("%Y%m%d")
        dataset.ContentTime = stamp.strftime("%H%M%S")
        for item in dataset.get("ContributingEquipmentSequence", []):
            item.ContributionDateTime = stamp.strftime("%Y%m%d%H%M%S")
    organisation = _uid(seg, "dimensions")
    for keyword in ("DimensionOrganizationSequence", "DimensionIndexSequence"):
        for item in dataset.get(keyword, []):
            item.DimensionOrganizationUID = organisation
    for keyword in ("SeriesDate", "SeriesTime", "InstanceCreationDate", "InstanceCreationTime"):
        if keyword in dataset:
            delattr(dataset, keyword)
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _model_masks(study: ReaderStudy, cases: dict) -> dict[str, np.ndarray]:
    versions = [
        c.model_version
        for c in AssistanceConfig.objects.filter(study=study, model_version__isnull=False)
        .select_related("model_version")
        .order_by("id")
    ]
    if not versions:
        return {}
    out = {}
    for code, case in cases.items():
        output = ai_selectors.latest_output(
            series=case.primary_series_id, model_version=versions[0]
        )
        if output is not None and output.mask:
            out[code] = np.asarray(read_volume(output.mask).array) > 0
    return out


def dice_inputs(
    study: ReaderStudy, *, with_truth: bool
) -> tuple[list[Segmentation], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Segmentations keyed by session and condition (``s<index>-<condition>``), the truth masks
    (only ``with_truth``) and the model's masks of the cases segmented."""
    segs, cases = [], {}
    for s in reader_segmentations(study):
        a = s.assignment
        case = a.study_case.case
        cases[case.code] = case
        segs.append(
            Segmentation(
                a.reader.user.username, f"s{a.session.index}-{a.condition}", case.code, _mask(s)
            )
        )
    truth: dict[str, np.ndarray] = {}
    if with_truth:
        for mask in HematomaMask.objects.filter(case__code__in=list(cases)).select_related("case"):
            truth[mask.case.code] = np.asarray(read_volume(mask.file).array) > 0
    return segs, truth, _model_masks(study, cases)
