from django.contrib import admin

from .models import Heatmap, InferenceJob, InferenceOutput, ModelVersion


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("model_id", "version", "name", "active", "registered_at")
    readonly_fields = ("manifest", "weights_sha256", "operating_points", "explainers")


@admin.register(InferenceJob)
class InferenceJobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "case",
        "model_version",
        "status",
        "phase",
        "percent",
        "attempts",
        "worker_host",
        "created_at",
    )
    list_filter = ("status", "model_version")
    readonly_fields = [f.name for f in InferenceJob._meta.fields]


admin.site.register(InferenceOutput)
admin.site.register(Heatmap)
