from rest_framework import serializers

from .jobs import JobStatus
from .models import WorkerProbe


class JobStateSerializer(serializers.Serializer):
    """The lifecycle fields every job kind shows (:class:`readerstudy.core.jobs.Job`).

    Works on a job or on a dict with the same keys.
    """

    status = serializers.ChoiceField(choices=JobStatus.choices, read_only=True)
    phase = serializers.CharField(allow_blank=True, read_only=True)
    done = serializers.IntegerField(read_only=True, help_text="items of the phase done")
    total = serializers.IntegerField(read_only=True, help_text="items of the phase (0: unknown)")
    percent = serializers.FloatField(
        allow_null=True, read_only=True, help_text="share of the phase done; null: unknown"
    )
    error_code = serializers.CharField(allow_blank=True, read_only=True)
    error = serializers.CharField(allow_blank=True, read_only=True)
    cancel_requested = serializers.BooleanField(read_only=True)
    can_cancel = serializers.BooleanField(read_only=True, help_text="whether cancel would act")
    attempts = serializers.IntegerField(read_only=True)
    worker_host = serializers.CharField(allow_blank=True, read_only=True)
    timings = serializers.DictField(
        child=serializers.FloatField(), read_only=True, help_text="{step_s: seconds}"
    )
    versions = serializers.DictField(
        child=serializers.CharField(), read_only=True, help_text="{library: version}"
    )
    created_at = serializers.DateTimeField(read_only=True)
    started_at = serializers.DateTimeField(allow_null=True, read_only=True)
    heartbeat_at = serializers.DateTimeField(allow_null=True, read_only=True)
    finished_at = serializers.DateTimeField(allow_null=True, read_only=True)
    elapsed_s = serializers.FloatField(allow_null=True, read_only=True)


class WorkerProbeSerializer(serializers.ModelSerializer):
    duration_s = serializers.FloatField(min_value=0.0, max_value=600.0, default=0.0)

    class Meta:
        model = WorkerProbe
        fields = [
            "id", "status", "duration_s", "attempts", "completions", "worker_host",
            "worker_pid", "created_at", "started_at", "finished_at", "phase", "error_code",
            "error", "heartbeat_at",
        ]  # fmt: skip
        read_only_fields = [f for f in fields if f != "duration_s"]
