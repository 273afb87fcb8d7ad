"""Request and response bodies of the case-library API."""

from rest_framework import serializers

from .labels import truth_problems
from .models import Collection


class ImportJobRequestSerializer(serializers.Serializer):
    collection = serializers.CharField(
        max_length=Collection._meta.get_field("name").max_length or 120,
        required=False, allow_blank=True, allow_null=True,
        help_text="the collection the imported cases join (created if new)",
    )  # fmt: skip


class UploadRequestSerializer(serializers.Serializer):
    files = serializers.ListField(
        child=serializers.FileField(), help_text="the DICOM files of one study, or one zip"
    )
    collection = serializers.CharField(required=False, help_text="for a one-step upload")


class ImportErrorSerializer(serializers.Serializer):
    """One stored import problem; the keys a record lacks stay absent from it."""

    code = serializers.CharField()
    message = serializers.CharField()
    file = serializers.CharField(
        required=False, allow_null=True, help_text="a PHI-safe label of the file"
    )
    series = serializers.CharField(
        required=False, allow_null=True, help_text="the de-identified SeriesInstanceUID"
    )
    slices = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="slice indices, sorted"
    )
    severity = serializers.CharField(required=False, help_text="error, or excluded (skipped)")
    extra = serializers.JSONField(required=False, help_text="details of the problem")

    def to_representation(self, instance):
        data = super().to_representation(instance)
        return {key: value for key, value in data.items() if key in instance}


class ImportJobStateSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    phase = serializers.CharField(allow_blank=True)
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    progress = serializers.FloatField()
    error_code = serializers.CharField(
        allow_blank=True, help_text="why a failed import failed (its first error's code)"
    )
    error = serializers.CharField(allow_blank=True)
    cancel_requested = serializers.BooleanField()
    can_cancel = serializers.BooleanField(help_text="whether POST .../cancel/ would act now")
    started_at = serializers.DateTimeField(allow_null=True)
    cases = serializers.ListField(child=serializers.CharField())
    created = serializers.BooleanField(
        allow_null=True, help_text="false: the study was already in the library; null: no case"
    )
    errors = ImportErrorSerializer(many=True)  # type: ignore[assignment]  # a field named like a DRF attribute
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class UploadAcceptedSerializer(ImportJobStateSerializer):
    """The job holding the files, queued for a worker: poll it for the import's progress."""

    names = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text=(
            "hashed file label -> the name you uploaded it as, for every file (and zip member)"
            " whose label is hashed; look up the labels the job's errors name (a '#n' suffix"
            " removed). This response only; never stored"
        ),
    )


class ProblemSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()


class LabelsUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="the CSV, UTF-8")
    kind = serializers.ChoiceField(
        choices=[("cases", "one row per case"), ("slices", "one row per labelled slice")],
        default="cases",
    )


class LabelSummarySerializer(serializers.Serializer):
    kind = serializers.CharField()
    cases = serializers.IntegerField(help_text="cases labelled")
    created = serializers.IntegerField(help_text="of which had no such labels before")
    updated = serializers.IntegerField()
    detail = serializers.CharField()


class LabelErrorsSerializer(ProblemSerializer):
    errors = serializers.ListField(  # type: ignore[assignment]  # a field named like a DRF attribute
        child=serializers.CharField(), help_text="every problem, by row; nothing was stored"
    )


class TruthSerializer(serializers.Serializer):
    """A case's ground truth, as the labels CSV has it (``label`` is the etiology)."""

    case = serializers.CharField(read_only=True)
    labelled = serializers.BooleanField(read_only=True)
    label = serializers.CharField(allow_blank=True, trim_whitespace=True)  # type: ignore[assignment]  # a field named like a DRF attribute
    ich_present = serializers.BooleanField(allow_null=True, default=None)
    subtypes = serializers.ListField(child=serializers.CharField(), default=list)
    location = serializers.CharField(allow_blank=True, default="")
    site = serializers.CharField(allow_blank=True, default="")
    source = serializers.CharField(read_only=True)  # type: ignore[assignment]  # a field named like a DRF attribute
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)

    def validate_subtypes(self, value):
        if any(";" in s for s in value):
            raise serializers.ValidationError("a subtype cannot contain ';'")
        return value

    def validate(self, attrs):
        row = truth_row(attrs)
        problems: dict[str, list[str]] = {}
        for column, message in truth_problems(row):
            problems.setdefault(column, []).append(message)
        if problems:
            raise serializers.ValidationError(problems)
        attrs["row"] = row
        return attrs


def truth_row(values: dict) -> dict[str, str]:
    """API values as a labels-CSV row, for the one row validator."""
    ich = values.get("ich_present")
    return {
        "label": values.get("label") or "",
        "ich_present": "" if ich is None else ("1" if ich else "0"),
        "subtypes": ";".join(values.get("subtypes") or []),
        "location": values.get("location") or "",
        "site": values.get("site") or "",
    }


class TruthErrorsSerializer(ProblemSerializer):
    errors = serializers.DictField(  # type: ignore[assignment]  # a field named like a DRF attribute
        child=serializers.JSONField(),
        help_text="field -> its messages (for a list, by index of the item)",
    )
