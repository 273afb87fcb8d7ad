"""Request and response bodies of the inference API."""

from rest_framework import serializers

from readerstudy.cases.models import Case

from .models import InferenceJob, ModelVersion


class ModelVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "model_id",
            "version",
            "name",
            "positive_label",
            "operating_points",
            "explainers",
            "active",
        ]


class JobSerializer(serializers.ModelSerializer):
    case = serializers.CharField(source="case.code")
    model = serializers.CharField(source="model_version.__str__")

    class Meta:
        model = InferenceJob
        fields = ["id", "case", "model", "params", "status", "progress", "error", "attempts", "worker_host",
                  "timings", "created_at", "started_at", "finished_at"]  # fmt: skip


class JobRequestSerializer(serializers.Serializer):
    case = serializers.CharField(max_length=Case._meta.get_field("code").max_length)
    model_version = serializers.PrimaryKeyRelatedField(
        queryset=ModelVersion.objects.filter(active=True)
    )
    explain = serializers.ListField(
        child=serializers.CharField(max_length=64), max_length=32, required=False
    )
