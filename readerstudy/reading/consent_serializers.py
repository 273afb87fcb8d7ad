"""The reader's consent state and acceptance (``/api/reading/studies/<id>/consent/``)."""

from rest_framework import serializers


class ConsentStateSerializer(serializers.Serializer):
    study = serializers.IntegerField(source="study_id")
    # DRF's metaclass takes declared fields off the class, so this does not shadow
    # ``Field.required``; mypy sees only the class body.
    required = serializers.BooleanField(  # type: ignore[assignment]
        help_text="false: the study asks for no consent"
    )
    accepted = serializers.BooleanField()
    version = serializers.IntegerField(source="version.number", allow_null=True, default=None)
    text = serializers.CharField(source="version.text", allow_null=True, default=None)
    text_sha256 = serializers.CharField(source="version.text_sha256", allow_null=True, default=None)
    accepted_at = serializers.DateTimeField(
        source="acceptance.accepted_at", allow_null=True, default=None
    )


class ConsentAcceptSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text="the version number read")
