"""Read paths of the model registry and outputs."""

from .models import Heatmap, InferenceJob, InferenceOutput, ModelVersion
from .outputs import read_volume
from .overlays import encode_mask, encode_overlay


def active_model_versions():
    return ModelVersion.objects.filter(active=True)


def latest_output(*, series, model_version) -> InferenceOutput | None:
    """The newest succeeded output of ``model_version`` for ``series`` (a Series or its id)."""
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


def heatmap_overlay(heatmap: Heatmap):
    array = read_volume(heatmap.file).array
    return encode_overlay(array, method=heatmap.method, signed=heatmap.signed)


def mask_overlay(output: InferenceOutput):
    return encode_mask(read_volume(output.mask).array)
