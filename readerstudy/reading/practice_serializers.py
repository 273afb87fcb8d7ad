"""The reader's practice: state, next read, submission and feedback."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from readerstudy.core.validators import storable_json
from readerstudy.studies.practice import PracticeRule, task_text
from readerstudy.studies.selectors import question_rows

from .assistance_serializers import AssistanceHeatmapSerializer
from .practice_feedback import heatmap_url, item_body
from .serializers import MAX_ACTIVE_MS, AssignmentImagesSerializer, ReaderQuestionSerializer


class PracticeModelSerializer(serializers.Serializer):
    available = serializers.BooleanField()
    reason = serializers.CharField(required=False)
    model = serializers.CharField(required=False)
    probability = serializers.FloatField(required=False, allow_null=True)
    meaning = serializers.CharField(required=False)
    labels = serializers.JSONField(required=False, help_text="probability per label")
    decision = serializers.JSONField(required=False, help_text="the call at the operating point")
    positive_label = serializers.CharField(required=False, help_text="with heatmaps")
    heatmaps = AssistanceHeatmapSerializer(
        many=True,
        required=False,
        help_text="the aided condition's heatmaps (aided read and feedback only), as the aided "
        "view lists them; each volume is served after the case's unaided practice answer",
    )


class PracticeItemSerializer(serializers.Serializer):
    practice_case = serializers.IntegerField()
    number = serializers.IntegerField(help_text="1-based place of the case in the practice")
    of = serializers.IntegerField()
    condition = serializers.CharField()
    condition_name = serializers.CharField()
    aided = serializers.BooleanField()
    images = AssignmentImagesSerializer(allow_null=True)
    prefill = serializers.DictField(allow_null=True, help_text="own unaided answer (aided read)")
    model = PracticeModelSerializer(allow_null=True, help_text="aided read: what the view shows")


class PracticeRuleSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PracticeRule.choices)
    min_correct = serializers.IntegerField(allow_null=True)
    max_attempts = serializers.IntegerField(help_text="0: any number")
    text = serializers.CharField()


class PracticeStateSerializer(serializers.Serializer):
    study = serializers.IntegerField(source="study.pk")
    status = serializers.CharField(
        help_text="none, qualified, in_progress, passed, retry or blocked"
    )
    # DRF's metaclass takes declared fields off the class; mypy sees only the class body.
    required = serializers.BooleanField()  # type: ignore[assignment]
    qualified = serializers.BooleanField()
    task_text = serializers.SerializerMethodField()
    rule = serializers.SerializerMethodField()
    attempt = serializers.IntegerField(source="next_attempt")
    attempts_allowed = serializers.IntegerField(allow_null=True)
    cases = serializers.SerializerMethodField()
    reads_total = serializers.IntegerField(source="total_reads")
    reads_done = serializers.SerializerMethodField()
    correct = serializers.IntegerField(help_text="practice cases right in this attempt (unaided)")
    message = serializers.SerializerMethodField()
    questions = serializers.SerializerMethodField()
    next = serializers.SerializerMethodField()

    def get_task_text(self, state) -> str:
        return task_text(state.study)

    @extend_schema_field(PracticeRuleSerializer)
    def get_rule(self, state) -> dict:
        s = state.settings
        return PracticeRuleSerializer(
            {"kind": s.rule, "min_correct": s.min_correct, "max_attempts": s.max_attempts,
             "text": state.rule_text()}
        ).data  # fmt: skip

    def get_cases(self, state) -> int:
        return len(state.cases)

    def get_reads_done(self, state) -> int:
        return 0 if state.next_attempt != state.attempt else len(state.answers)

    def get_message(self, state) -> str:
        return state.message()

    @extend_schema_field(ReaderQuestionSerializer(many=True))
    def get_questions(self, state) -> list:
        return list(ReaderQuestionSerializer(question_rows(state.study), many=True).data)

    @extend_schema_field(PracticeItemSerializer(allow_null=True))
    def get_next(self, state) -> dict | None:
        item = state.next_item()
        if item is None:
            return None
        return PracticeItemSerializer(item_body(state, item, heatmap_url(state.study.pk))).data


class PracticeFeedbackRowSerializer(serializers.Serializer):
    endpoint = serializers.CharField()
    name = serializers.CharField()
    primary = serializers.BooleanField()
    truth = serializers.CharField()
    answers = serializers.JSONField(help_text="per condition code: {value, correct}")


class PracticeFeedbackSerializer(serializers.Serializer):
    practice_case = serializers.IntegerField()
    correct = serializers.BooleanField(
        allow_null=True, help_text="the unaided answer vs the primary endpoint's truth"
    )
    rows = PracticeFeedbackRowSerializer(many=True)
    model = PracticeModelSerializer()


class PracticeAnswerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    practice_case = serializers.IntegerField(source="practice_case_id")
    attempt = serializers.IntegerField()
    condition = serializers.CharField()
    answers = serializers.DictField()
    correct = serializers.BooleanField(allow_null=True)
    submitted_at = serializers.DateTimeField()


class PracticeSubmitResultSerializer(serializers.Serializer):
    answer = PracticeAnswerSerializer()
    created = serializers.BooleanField()
    feedback = PracticeFeedbackSerializer()
    state = PracticeStateSerializer()


class PracticeSubmitInputSerializer(serializers.Serializer):
    practice_case = serializers.IntegerField(min_value=1)
    condition = serializers.CharField(max_length=64)
    answers = serializers.DictField(validators=[storable_json])
    client_request_id = serializers.CharField(max_length=64)
    active_ms = serializers.IntegerField(
        min_value=0, max_value=MAX_ACTIVE_MS, required=False, allow_null=True
    )
