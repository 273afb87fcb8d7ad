"""Request and response bodies of the inference API."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from readerstudy.cases.models import Case
from readerstudy.core.serializers import JobStateSerializer

from .models import InferenceJob, ModelVersion


class ModelLabelSerializer(serializers.Serializer):
    name = serializers.CharField()
    display = serializers.CharField()
    description = serializers.CharField(required=False)


class ModelHeadSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=["binary", "multi_label", "multi_class"])
    labels = serializers.ListField(child=serializers.CharField())
    positive = serializers.CharField(required=False)
    slice_level = serializers.BooleanField(default=False)
    aggregation = serializers.CharField(required=False)
    cascade_from = serializers.CharField(required=False)


class ModelVersionSerializer(serializers.ModelSerializer):
    """A registered model; ``labels`` and ``heads`` come from its manifest (schema 2.0);
    ``operating_points`` is {name: threshold, or {label: threshold} where per label}."""

    labels = serializers.SerializerMethodField()
    heads = serializers.SerializerMethodField()
    operating_points = serializers.JSONField(
        read_only=True, help_text="{name: threshold or {label: threshold}}"
    )

    @extend_schema_field(ModelLabelSerializer(many=True))
    def get_labels(self, version: ModelVersion) -> list:
        return list(
            ModelLabelSerializer((version.manifest or {}).get("labels", []), many=True).data
        )

    @extend_schema_field(ModelHeadSerializer(many=True))
    def get_heads(self, version: ModelVersion) -> list:
        return list(ModelHeadSerializer((version.manifest or {}).get("heads", []), many=True).data)

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "model_id",
            "version",
            "name",
            "labels",
            "heads",
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
