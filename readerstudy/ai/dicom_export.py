"""Model outputs as DICOM objects (highdicom): the mask as a binary Segmentation, each heatmap
as a floating-point Parametric Map, all referencing the de-identified series they were computed
on, so a PACS or another viewer can show them next to the images.

The objects are derived from the stored de-identified instances only (no original header is
involved), and their UIDs are derived from the job so exporting twice gives the same files.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import datetime

import highdicom as hd
import numpy as np
import pydicom
from django.conf import settings
from django.core.files.storage import default_storage
from pydicom.sr.coding import Code
from pydicom.uid import PYDICOM_ROOT_UID, generate_uid

from .models import InferenceOutput
from .outputs import read_volume

HEMORRHAGE = Code("50960005", "SCT", "Hemorrhage")
ALTERED_STRUCTURE = Code("49755003", "SCT", "Morphologically Altered Structure")
NO_UNITS = Code("1", "UCUM", "no units")
AI_FAMILY = Code("123109", "DCM", "Artificial Intelligence")  # CID 7162 (Algorithm Family)


class ExportRefused(ValueError):
    """The output cannot be exported (say why)."""


@dataclass(frozen=True)
class ExportedObject:
    name: str
    data: bytes


def _uid(output: InferenceOutput, what: str) -> str:
    prefix = settings.READERSTUDY_UID_PREFIX or PYDICOM_ROOT_UID
    return generate_uid(prefix.rstrip(".") + ".", entropy_srcs=[str(output.job_id), what])


def _source_datasets(output: InferenceOutput) -> list[pydicom.Dataset]:
    instances = list(output.job.series.instances.order_by("position"))
    if not instances:
        raise ExportRefused("the series of this output has no stored instances")
    datasets: list[pydicom.Dataset] = []
    for instance in instances:
        with default_storage.open(instance.file, "rb") as fh:
            datasets.append(pydicom.dcmread(fh, stop_before_pixels=False))
    return datasets


def _frames(volume: np.ndarray, datasets: list[pydicom.Dataset], what: str) -> np.ndarray:
    expected = (len(datasets), int(datasets[0].Rows), int(datasets[0].Columns))
    if volume.shape != expected:
        raise ExportRefused(f"{what} has shape {volume.shape}, the series is {expected}")
    return volume


def _device(output: InferenceOutput) -> dict:
    model = output.job.model_version
    return {
        "manufacturer": "readerstudy",
        "manufacturer_model_name": model.model_id[:64],
        "software_versions": model.version[:64],
        "device_serial_number": model.weights_sha256[:16] or "unknown",
    }


def _algorithm(output: InferenceOutput) -> hd.AlgorithmIdentificationSequence:
    model = output.job.model_version
    return hd.AlgorithmIdentificationSequence(
        name=model.model_id[:64], version=model.version[:64], family=AI_FAMILY
    )


def segmentation(output: InferenceOutput, datasets: list[pydicom.Dataset]) -> ExportedObject:
    if not output.mask:
        raise ExportRefused("this output has no mask")
    mask = _frames(read_volume(output.mask).array, datasets, "the mask") > 0
    description = hd.seg.SegmentDescription(
        segment_number=1,
        segment_label="Hematoma",
        segmented_property_category=ALTERED_STRUCTURE,
        segmented_property_type=HEMORRHAGE,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
        algorithm_identification=_algorithm(output),
    )
    seg = hd.seg.Segmentation(
        source_images=datasets,
        pixel_array=mask,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[description],
        series_instance_uid=_uid(output, "seg-series"),
        series_number=901,
        sop_instance_uid=_uid(output, "seg"),
        instance_number=1,
        series_description=f"AI hematoma {output.job.model_version}"[:64],
        omit_empty_frames=False,
        **_device(output),
    )
    return ExportedObject("segmentation.dcm", _encode(seg, output))


def parametric_map(
    output: InferenceOutput, heatmap, datasets: list[pydicom.Dataset], number: int
) -> ExportedObject:
    # the positive label's map keeps its method's name; another label's adds the label
    own = heatmap.label in ("", output.job.model_version.positive_label)
    key = heatmap.method if own else f"{heatmap.method}-{heatmap.label}"
    values = _frames(read_volume(heatmap.file).array, datasets, f"the {key} map")
    values = np.ascontiguousarray(values, dtype=np.float32)
    lo, hi = float(values.min()), float(values.max())
    if hi <= lo:
        hi = lo + 1.0
    mapping = hd.pm.RealWorldValueMapping(
        lut_label=heatmap.method[:16],
        lut_explanation=f"{heatmap.method} attribution of {heatmap.label or 'the positive class'}"
        + (" (signed: > 0 towards it)" if heatmap.signed else ""),
        unit=NO_UNITS,
        value_range=(lo, hi),
        slope=1.0,
        intercept=0.0,
    )
    centre = 0.0 if heatmap.signed else (lo + hi) / 2
    width = 2 * max(abs(lo), abs(hi)) if heatmap.signed else hi - lo
    pm = hd.pm.ParametricMap(
        source_images=datasets,
        pixel_array=values,
        series_instance_uid=_uid(output, f"pm-series-{key}"),
        series_number=910 + number,
        sop_instance_uid=_uid(output, f"pm-{key}"),
        instance_number=1,
        contains_recognizable_visual_features=False,
        real_world_value_mappings=[mapping],
        voi_lut_transformations=[
            hd.VOILUTTransformation(window_center=centre, window_width=max(width, 1e-6))
        ],
        content_label=key.upper().replace("-", "_")[:16],
        series_description=f"AI {key} {output.job.model_version}"[:64],
        **_device(output),
    )
    return ExportedObject(f"parametric_map_{key}.dcm", _encode(pm, output))


def _stamp(output: InferenceOutput) -> datetime:
    """When the output was made: the content date/time of every exported object."""
    return output.job.finished_at or output.created_at


def _encode(dataset: pydicom.Dataset, output: InferenceOutput) -> bytes:
    """Serialize with every time stamp and generated UID taken from the output, so the same
    output always exports to the same bytes."""
    stamp = _stamp(output)
    dataset.ContentDate = stamp.strftime("%Y%m%d")
    dataset.ContentTime = stamp.strftime("%H%M%S")
    for item in dataset.get("ContributingEquipmentSequence", []):
        item.ContributionDateTime = stamp.strftime("%Y%m%d%H%M%S")
    organisation = _uid(output, f"dimensions-{dataset.SOPInstanceUID}")
    for keyword in ("DimensionOrganizationSequence", "DimensionIndexSequence"):
        for item in dataset.get(keyword, []):
            item.DimensionOrganizationUID = organisation
    for keyword in ("SeriesDate", "SeriesTime", "InstanceCreationDate", "InstanceCreationTime"):
        if keyword in dataset:
            delattr(dataset, keyword)
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def export_objects(output: InferenceOutput) -> list[ExportedObject]:
    """The SEG (when there is a mask) and one Parametric Map per heatmap."""
    datasets = _source_datasets(output)
    objects = [segmentation(output, datasets)] if output.mask else []
    for number, heatmap in enumerate(output.heatmaps.order_by("method", "label")):
        objects.append(parametric_map(output, heatmap, datasets, number))
    if not objects:
        raise ExportRefused("this output has neither a mask nor heatmaps")
    return objects


def export_zip(output: InferenceOutput) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        stamp = _stamp(output).timetuple()[:6]
        for obj in export_objects(output):
            info = zipfile.ZipInfo(obj.name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, obj.data)
    return buffer.getvalue()
