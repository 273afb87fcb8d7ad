"""Keep the ModelVersion table in step with the installed model plug-ins."""

from django.db import transaction

from inference.registry import operating_point_thresholds

from .models import ModelVersion


def _weights_digest(manifest: dict) -> str:
    files = manifest.get("weights", [])
    return ",".join(sorted(f.get("sha256", "") for f in files))[:64] if files else ""


@transaction.atomic
def register_manifest(manifest: dict, *, user=None) -> ModelVersion:
    version, created = ModelVersion.objects.get_or_create(
        model_id=manifest["id"],
        version=manifest["version"],
        defaults={
            "name": manifest.get("name", manifest["id"]),
            "manifest": manifest,
            "weights_sha256": _weights_digest(manifest),
            "positive_label": manifest["positive_label"],
            "operating_points": operating_point_thresholds(manifest),
            "explainers": sorted(manifest.get("explainers", {})),
            "registered_by": user,
        },
    )
    if not created and version.weights_sha256 != _weights_digest(manifest):
        raise ValueError(
            f"model {manifest['id']} {manifest['version']} is registered with other weights; "
            "publish changed weights under a new version"
        )
    return version


def sync_installed_models(*, user=None, only=None) -> list[ModelVersion]:
    """Register every installed plug-in's manifest (validated by the inference package), or
    only the model ids in ``only``."""
    from inference.registry import discover, get_model

    ids = sorted(discover()) if only is None else sorted(only)
    return [register_manifest(get_model(model_id).manifest(), user=user) for model_id in ids]
