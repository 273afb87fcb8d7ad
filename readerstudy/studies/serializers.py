from rest_framework import serializers

from .designs import DESIGNS
from .models import AssistanceConfig, Question, ReaderStudy


class StudyCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    design = serializers.ChoiceField(choices=list(DESIGNS))
    description = serializers.CharField(required=False, allow_blank=True, default="")
    washout_days = serializers.IntegerField(min_value=0, default=0)
    blind_coordinators = serializers.BooleanField(default=True)
    randomization_seed = serializers.IntegerField(
        min_value=0, max_value=2**62, required=False, allow_null=True, default=None
    )


class QuestionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Question
        fields = ["code", "type", "text", "help_text", "options", "required", "order", "is_primary"]


class AssistanceSerializer(serializers.ModelSerializer):
    class Meta:
        model = AssistanceConfig
        fields = [
            "model_version", "show_probability", "show_decision", "operating_point", "heatmaps",
            "show_mask_outline", "show_model_version", "heatmap_opacity",
        ]  # fmt: skip


class StudySerializer(serializers.ModelSerializer):
    sessions = serializers.SerializerMethodField()
    arms = serializers.SerializerMethodField()
    cases = serializers.SerializerMethodField()
    readers = serializers.SerializerMethodField()
    questions = QuestionSerializer(many=True, read_only=True)
    assistance = AssistanceSerializer(read_only=True)

    class Meta:
        model = ReaderStudy
        fields = [
            "id", "title", "description", "status", "design", "randomization_seed",
            "washout_days", "blind_coordinators", "statistician_access", "created_at",
            "opened_at", "closed_at", "sessions", "arms", "cases", "readers", "questions",
            "assistance",
        ]  # fmt: skip

    def get_sessions(self, obj) -> list:
        return [
            {
                "index": s.index,
                "name": s.name,
                "washout_days": s.washout_days,
                "opens_at": s.opens_at,
            }
            for s in obj.sessions.all()
        ]

    def get_arms(self, obj) -> list:
        return [
            {
                "name": arm.name,
                "schedule": [
                    {
                        "session": e.session.index,
                        "case_group": e.case_group,
                        "condition": e.condition,
                        "step": e.step,
                    }
                    for e in arm.schedule.select_related("session")
                ],
            }
            for arm in obj.arms.all()
        ]

    def get_cases(self, obj) -> list:
        return [
            {"code": sc.case.code, "group": sc.group}
            for sc in obj.study_cases.select_related("case")
        ]

    def get_readers(self, obj) -> list:
        return [
            {"username": r.user.username, "arm": r.arm.name if r.arm else None}
            for r in obj.readers.select_related("user", "arm")
        ]
