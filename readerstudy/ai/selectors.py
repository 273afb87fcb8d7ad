"""Read paths of the model registry and outputs."""

import SimpleITK as sitk

from readerstudy.cases.storage import local_copy

from .models import Heatmap, InferenceJob, InferenceOutput, ModelVersion
from .overlays import encode_mask, encode_overlay


def active_model_versions():
    return ModelVersion.objects.filter(active=True)


def latest_output(*, series, model_version) -> InferenceOutput | None:
    if series is None:
        return None
    return (
        InferenceOutput.objects.filter(
            job__series=series,
            job__model_version=model_version,
            job__status=InferenceJob.Status.SUCCEEDED,
        )
        .order_by("-created_at")
        .first()
    )


def _read_volume(storage_name: str):
    with local_copy(storage_name) as path:
        return sitk.GetArrayFromImage(sitk.ReadImage(str(path)))


def heatmap_overlay(heatmap: Heatmap):
    return encode_overlay(_read_volume(heatmap.file), method=heatmap.method, signed=heatmap.signed)


def mask_overlay(output: InferenceOutput):
    return encode_mask(_read_volume(output.mask))
