from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inference.explain import EXPLAINERS
from readerstudy.ai.models import ModelVersion
from readerstudy.cases.models import Case

from . import truth_source
from .designs import DESIGNS
from .models import (
    MAX_WASHOUT_DAYS,
    AssistanceConfig,
    Endpoint,
    EndpointKind,
    HeatmapScale,
    Question,
    QuestionType,
    ReaderStudy,
    StudyCondition,
    TruthField,
)
from .presets import PRESETS
from .questions import validate_question_definition

# Bounds of one request: generous for a study, small enough that one request stays cheap.
#: heatmap methods a condition may show: the seed-000 explainers and the slice models' maps
HEATMAP_METHODS = tuple(dict.fromkeys((*EXPLAINERS, "gradcam", "attention")))
MAX_CASES_PER_REQUEST = 5000
MAX_READERS_PER_REQUEST = 500
MAX_QUESTIONS = 100
MAX_OPTIONS = 100
MAX_ENDPOINTS = 20


def _max_length(model, field: str) -> int:
    return model._meta.get_field(field).max_length


class StudyCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    design = serializers.ChoiceField(choices=list(DESIGNS))
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=20_000
    )
    washout_days = serializers.IntegerField(
        min_value=0,
        max_value=MAX_WASHOUT_DAYS,
        default=0,
        help_text=f"days between a reader's sessions, 0 to {MAX_WASHOUT_DAYS} (ten years)",
    )
    blind_coordinators = serializers.BooleanField(default=True)
    randomization_seed = serializers.IntegerField(
        min_value=0, max_value=2**62, required=False, allow_null=True, default=None
    )
    preset = serializers.ChoiceField(
        choices=list(PRESETS),
        default="seed000",
        help_text="the questions and endpoints to start from",
    )


class CaseCodesSerializer(serializers.Serializer):
    case_codes = serializers.ListField(
        child=serializers.CharField(max_length=_max_length(Case, "code")),
        min_length=1,
        max_length=MAX_CASES_PER_REQUEST,
    )


class UsernamesSerializer(serializers.Serializer):
    usernames = serializers.ListField(
        child=serializers.CharField(max_length=_max_length(get_user_model(), "username")),
        min_length=1,
        max_length=MAX_READERS_PER_REQUEST,
    )


class GrantSerializer(serializers.Serializer):
    granted = serializers.BooleanField(default=True)


class OpenSerializer(serializers.Serializer):
    truth_pending_allowed = serializers.BooleanField(
        default=False,
        help_text="open although cases lack truth for the endpoint (it will be added later)",
    )


class OptionSerializer(serializers.Serializer):
    value = serializers.CharField(max_length=64)
    # a declared field named like a Field attribute (label, help_text, required): DRF's
    # metaclass takes it out of the class, the stubs see an override
    label = serializers.CharField(max_length=300, required=False, help_text="default: the value")  # type: ignore[assignment]

    def validate(self, attrs):
        return {"value": attrs["value"], "label": attrs.get("label", attrs["value"])}


class QuestionListSerializer(serializers.ListSerializer):
    def validate(self, attrs):
        codes = [q["code"] for q in attrs]
        repeated = sorted({c for c in codes if codes.count(c) > 1})
        if repeated:
            raise serializers.ValidationError(
                f"question codes must be unique: {', '.join(repeated)} repeated", code="duplicate"
            )
        return attrs


class QuestionInputSerializer(serializers.Serializer):
    """One question of the list a coordinator sends (``text`` defaults to the code)."""

    code = serializers.SlugField(max_length=_max_length(Question, "code"))
    type = serializers.ChoiceField(choices=QuestionType.choices)
    text = serializers.CharField(max_length=_max_length(Question, "text"), required=False)
    help_text = serializers.CharField(  # type: ignore[assignment]  # see OptionSerializer.label
        max_length=_max_length(Question, "help_text"), allow_blank=True, default=""
    )
    options = serializers.ListField(child=OptionSerializer(), max_length=MAX_OPTIONS, default=list)
    required = serializers.BooleanField(default=True)  # type: ignore[assignment]
    is_primary = serializers.BooleanField(default=False)
    show_if = serializers.JSONField(
        default=dict,
        help_text='shown only when {"question": code, "equals": value} or '
        '{"question": code, "present": true}; a question before it',
    )
    config = serializers.JSONField(
        default=dict,
        help_text='marks: {"tools", "rating_min", "rating_max", "max_marks", '
        '"threshold_hu_low", "threshold_hu_high"}; others: {}',
    )

    class Meta:
        list_serializer_class = QuestionListSerializer

    def validate(self, attrs):
        try:
            validate_question_definition(attrs["type"], attrs["options"], attrs["config"])
        except ValueError as exc:
            raise serializers.ValidationError({"options": [str(exc)]}) from None
        return attrs


class EndpointInputSerializer(serializers.Serializer):
    """One endpoint of the list a coordinator sends; questions are named by code."""

    code = serializers.SlugField(max_length=_max_length(Endpoint, "code"))
    name = serializers.CharField(max_length=_max_length(Endpoint, "name"), required=False)
    kind = serializers.ChoiceField(choices=EndpointKind.choices)
    truth_field = serializers.ChoiceField(choices=TruthField.choices)
    labels = serializers.ListField(child=OptionSerializer(), min_length=1, max_length=MAX_OPTIONS)
    question = serializers.SlugField(max_length=_max_length(Question, "code"))
    rating_question = serializers.SlugField(
        max_length=_max_length(Question, "code"), required=False, allow_null=True, default=None
    )
    is_primary = serializers.BooleanField(default=False)


class PresetSerializer(serializers.Serializer):
    preset = serializers.ChoiceField(choices=list(PRESETS))


class AssistanceInputSerializer(serializers.Serializer):
    """The assistance settings a coordinator may change (all optional: a partial update)."""

    model_version = serializers.PrimaryKeyRelatedField(
        queryset=ModelVersion.objects.all(), allow_null=True, required=False
    )
    show_probability = serializers.BooleanField(required=False)
    show_decision = serializers.BooleanField(required=False)
    operating_point = serializers.CharField(
        max_length=_max_length(AssistanceConfig, "operating_point"), required=False
    )
    heatmaps = serializers.ListField(
        child=serializers.ChoiceField(choices=HEATMAP_METHODS), max_length=len(HEATMAP_METHODS),
        required=False,
    )  # fmt: skip
    show_mask_outline = serializers.BooleanField(required=False)
    show_model_version = serializers.BooleanField(required=False)
    heatmap_opacity = serializers.FloatField(min_value=0.0, max_value=1.0, required=False)
    labels = serializers.ListField(
        child=serializers.CharField(max_length=64), max_length=64, required=False,
        help_text="model labels shown (manifest names); empty: all",
    )  # fmt: skip
    show_slice_strip = serializers.BooleanField(required=False)
    heatmap_scale = serializers.ChoiceField(choices=HeatmapScale.choices, required=False)
    side_by_side = serializers.BooleanField(required=False)
    show_truth_mask_side_by_side = serializers.BooleanField(required=False)
    show_nomogram = serializers.BooleanField(required=False)
    show_feature_importance = serializers.BooleanField(required=False)
    show_model_marks = serializers.BooleanField(required=False)
    show_clinical = serializers.ListField(
        child=serializers.CharField(max_length=64), max_length=64, required=False,
        help_text="clinical variables shown to readers (catalogue names); empty: none",
    )  # fmt: skip

    def validate_heatmaps(self, value):
        if len(set(value)) != len(value):
            raise serializers.ValidationError("each heatmap method may be listed once")
        return value


class QuestionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Question
        fields = [
            "code", "type", "text", "help_text", "options", "required", "order", "is_primary",
            "show_if", "config",
        ]  # fmt: skip


class EndpointSerializer(serializers.ModelSerializer):
    question: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    rating_question: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )

    class Meta:
        model = Endpoint
        fields = [
            "code", "name", "kind", "truth_field", "labels", "question", "rating_question",
            "is_primary", "order",
        ]  # fmt: skip


class AssistanceSerializer(serializers.ModelSerializer):
    class Meta:
        model = AssistanceConfig
        fields = [
            "model_version", "show_probability", "show_decision", "operating_point", "heatmaps",
            "show_mask_outline", "show_model_version", "heatmap_opacity", "labels",
            "show_slice_strip", "heatmap_scale", "side_by_side", "show_truth_mask_side_by_side",
            "show_nomogram", "show_feature_importance", "show_clinical", "show_model_marks",
        ]  # fmt: skip


class ConditionSerializer(serializers.ModelSerializer):
    """A condition in its order; ``assistance`` is null for ``unaided`` (nothing is shown)."""

    assistance = serializers.SerializerMethodField()

    class Meta:
        model = StudyCondition
        fields = ["code", "name", "order", "assistance"]

    @extend_schema_field(AssistanceSerializer(allow_null=True))
    def get_assistance(self, obj) -> dict | None:
        config = getattr(obj, "assistance", None) if obj.is_aided else None
        return None if config is None else AssistanceSerializer(config).data


class StudySerializer(serializers.ModelSerializer):
    sessions = serializers.SerializerMethodField()
    arms = serializers.SerializerMethodField()
    cases = serializers.SerializerMethodField()
    readers = serializers.SerializerMethodField()
    questions = QuestionSerializer(many=True, read_only=True)
    endpoints = EndpointSerializer(many=True, read_only=True)
    conditions = ConditionSerializer(many=True, read_only=True)
    assistance = AssistanceSerializer(
        read_only=True, allow_null=True, help_text="the first aided condition's (see conditions)"
    )
    truth_source = serializers.SerializerMethodField(
        help_text="where the truth comes from: source (import / panel), panel, panel_title"
    )

    class Meta:
        model = ReaderStudy
        fields = [
            "id", "title", "description", "status", "design", "randomization_seed",
            "washout_days", "blind_coordinators", "statistician_access", "truth_pending_allowed",
            "created_at",
            "opened_at", "closed_at", "sessions", "arms", "cases", "readers", "questions",
            "endpoints", "conditions", "assistance", "truth_source",
        ]  # fmt: skip

    def get_truth_source(self, obj) -> dict:
        return truth_source.describe(obj)

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


class ReaderProgressSerializer(serializers.Serializer):
    """One reader's assignments by state: counts only, no answers, no truth."""

    reader = serializers.CharField()
    specialty = serializers.CharField(allow_blank=True)
    years_experience = serializers.IntegerField(allow_null=True)
    arm = serializers.CharField(allow_blank=True)
    total = serializers.IntegerField()
    locked = serializers.IntegerField()
    in_progress = serializers.IntegerField()
    submitted = serializers.IntegerField()
    percent = serializers.FloatField()
