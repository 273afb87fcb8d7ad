"""Request and response bodies of the inference API."""

from rest_framework import serializers

from readerstudy.cases.models import Case
from readerstudy.core.serializers import JobStateSerializer

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


class JobSerializer(JobStateSerializer):
    """An inference job: the lifecycle fields, and ``progress`` (per cent) as before."""

    id = serializers.UUIDField(read_only=True)
    case = serializers.CharField(source="case.code", read_only=True)
    model = serializers.CharField(source="model_version.__str__", read_only=True)
    params = serializers.JSONField(read_only=True)
    progress = serializers.SerializerMethodField(help_text="per cent done (0-100)")

    def get_progress(self, job: InferenceJob) -> int:
        return round(job.percent or 0)


class JobRequestSerializer(serializers.Serializer):
    case = serializers.CharField(max_length=Case._meta.get_field("code").max_length or 32)
    model_version = serializers.PrimaryKeyRelatedField(
        queryset=ModelVersion.objects.filter(active=True)
    )
    explain = serializers.ListField(
        child=serializers.CharField(max_length=64), max_length=32, required=False
    )
