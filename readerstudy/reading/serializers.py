from rest_framework import serializers

from readerstudy.studies.models import Assignment, Question


class QuestionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Question
        fields = ["code", "type", "text", "help_text", "options", "required", "order"]


class AssignmentListSerializer(serializers.ModelSerializer):
    """What a worklist shows: no answers of others, no truth, no model output."""

    case_code = serializers.CharField(source="study_case.case.code")
    session = serializers.CharField(source="session.name")
    session_index = serializers.IntegerField(source="session.index")
    study_title = serializers.CharField(source="study.title")

    class Meta:
        model = Assignment
        fields = [
            "id", "study", "study_title", "case_code", "session", "session_index", "condition",
            "position", "state", "started_at", "locked_at",
        ]  # fmt: skip


class AssignmentDetailSerializer(AssignmentListSerializer):
    images = serializers.SerializerMethodField()
    questions = serializers.SerializerMethodField()
    prerequisite = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta(AssignmentListSerializer.Meta):
        fields = [*AssignmentListSerializer.Meta.fields, "prerequisite", "images", "questions"]

    def get_images(self, obj) -> dict | None:
        series = obj.study_case.case.primary_series
        if series is None:
            return None
        return {
            "dicomweb_root": "/dicomweb",
            "study_instance_uid": series.study_instance_uid,
            "series_instance_uid": series.series_instance_uid,
            "num_slices": series.num_slices,
        }

    def get_questions(self, obj) -> list:
        return QuestionSerializer(obj.study.questions.all(), many=True).data


class AnswerInputSerializer(serializers.Serializer):
    answers = serializers.DictField()
    active_ms = serializers.IntegerField(min_value=0, required=False, allow_null=True)


class SubmitInputSerializer(AnswerInputSerializer):
    client_request_id = serializers.CharField(max_length=64)
    lock = serializers.BooleanField(default=False)


class RevisionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    kind = serializers.CharField()
    answers = serializers.DictField()
    client_active_ms = serializers.IntegerField(allow_null=True)
    server_time = serializers.DateTimeField()
