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


def heatmap_overlay(heatmap: Heatmap):
    array = read_volume(heatmap.file).array
    return encode_overlay(array, method=heatmap.method, signed=heatmap.signed)


def mask_overlay(output: InferenceOutput):
    return encode_mask(read_volume(output.mask).array)
