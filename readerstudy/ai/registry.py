"""Keep the ModelVersion table in step with the installed model plug-ins."""

from django.db import transaction

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
            "operating_points": {
                k: v["threshold"] for k, v in manifest["operating_points"].items()
            },
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


def sync_installed_models(*, user=None) -> list[ModelVersion]:
    """Register every installed plug-in's manifest (validated by the inference package)."""
    from inference.registry import discover, get_model

    return [
        register_manifest(get_model(model_id).manifest(), user=user)
        for model_id in sorted(discover())
    ]
