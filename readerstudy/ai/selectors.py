"""Read paths of the model registry and outputs."""

from .models import Heatmap, InferenceJob, InferenceOutput, ModelVersion
from .outputs import read_volume
from .overlays import encode_mask, encode_overlay


def active_model_versions():
    return ModelVersion.objects.filter(active=True)


# Read for every aided read's assistance: explicit SQL (no ORM compile on the reading path).
_LATEST_OUTPUT_SQL = """
    SELECT o.* FROM ai_inferenceoutput o
    JOIN ai_inferencejob j ON j.id = o.job_id
    WHERE j.series_id = %s AND j.model_version_id = %s AND j.status = %s
    ORDER BY o.created_at DESC
    LIMIT 1
"""


def latest_output(*, series, model_version) -> InferenceOutput | None:
    """The newest succeeded output of ``model_version`` for ``series`` (a Series or its id)."""
    if series is None:
        return None
    series_id = series if isinstance(series, int) else series.pk
    params = [series_id, model_version.pk, InferenceJob.Status.SUCCEEDED]
    return next(iter(InferenceOutput.objects.raw(_LATEST_OUTPUT_SQL, params)), None)


def heatmap_overlay(heatmap: Heatmap, *, global_factor: float | None = None):
    """The heatmap as an overlay: on its own range, or (``global_factor``: stored value x
    factor = fraction of the model's global scale) on the fixed range [0, 1] / [-1, 1]."""
    array = read_volume(heatmap.file).array
    fixed = None
    if global_factor is not None:
        array = array.astype("float32") * global_factor
        fixed = (-1.0 if heatmap.signed else 0.0, 1.0)
    descriptor, data = encode_overlay(
        array, method=heatmap.method, signed=heatmap.signed, fixed_range=fixed
    )
    descriptor["label"] = heatmap.label
    return descriptor, data


def mask_overlay(output: InferenceOutput):
    return encode_mask(read_volume(output.mask).array)


def file_mask_overlay(name: str):
    """A stored mask volume (e.g. a case's ground-truth mask) as an overlay."""
    return encode_mask(read_volume(name).array)
