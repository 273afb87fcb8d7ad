"""Read paths of the model registry and outputs."""

from readerstudy.core.compiled import CompiledQuery

from .models import Heatmap, InferenceJob, InferenceOutput, ModelVersion
from .outputs import read_volume
from .overlays import encode_mask, encode_overlay


def active_model_versions():
    return ModelVersion.objects.filter(active=True)


_LATEST_OUTPUT = CompiledQuery(
    lambda series, version: InferenceOutput.objects.filter(
        job__series=series,
        job__model_version=version,
        job__status=InferenceJob.Status.SUCCEEDED,
    ).order_by("-created_at")[:1],
    series=int,
    version=int,
)


def latest_output(*, series, model_version) -> InferenceOutput | None:
    """The newest succeeded output of ``model_version`` for ``series`` (a Series or its id).

    Read for every aided read's assistance: compiled once per process.
    """
    if series is None:
        return None
    series_id = series if isinstance(series, int) else series.pk
    return _LATEST_OUTPUT.first(series=series_id, version=model_version.pk)


def heatmap_overlay(heatmap: Heatmap):
    array = read_volume(heatmap.file).array
    return encode_overlay(array, method=heatmap.method, signed=heatmap.signed)


def mask_overlay(output: InferenceOutput):
    return encode_mask(read_volume(output.mask).array)
