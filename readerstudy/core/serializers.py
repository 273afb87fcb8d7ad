from rest_framework import serializers

from .models import WorkerProbe


class WorkerProbeSerializer(serializers.ModelSerializer):
    duration_s = serializers.FloatField(min_value=0.0, max_value=600.0, default=0.0)

    class Meta:
        model = WorkerProbe
        fields = [
            "id", "status", "duration_s", "attempts", "completions", "worker_host",
            "worker_pid", "created_at", "started_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = [f for f in fields if f != "duration_s"]
