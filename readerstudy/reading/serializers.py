"""Reader-facing representations. Plain serializers: every reading request builds one, and a
ModelSerializer re-derives its fields from the model on each instantiation."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from readerstudy.core.validators import storable_json
from readerstudy.studies.models import Assignment, Design, ReaderStudy
from readerstudy.studies.selectors import question_rows


class ReaderQuestionSerializer(serializers.Serializer):
    """A question as the reading workspace shows it."""

    code = serializers.CharField()
    type = serializers.CharField()
    text = serializers.CharField()
    help_text = serializers.CharField(allow_blank=True)  # type: ignore[assignment]  # a field named like a DRF attribute
    options = serializers.JSONField()
    required = serializers.BooleanField()  # type: ignore[assignment]  # a field named like a DRF attribute
    order = serializers.IntegerField()
    show_if = serializers.JSONField(help_text="shown only when this holds of the answers")
    config = serializers.JSONField(help_text="type settings (marks: tools, rating range, max)")


class AssignmentImagesSerializer(serializers.Serializer):
    """Where the viewer loads the case's primary series (DICOMweb)."""

    dicomweb_root = serializers.CharField()
    study_instance_uid = serializers.CharField()
    series_instance_uid = serializers.CharField()
    num_slices = serializers.IntegerField()


class AssignmentListSerializer(serializers.Serializer):
    """What a worklist shows: no answers of others, no truth, no model output."""

    id = serializers.IntegerField()
    study = serializers.IntegerField(source="study_id")
    study_title = serializers.CharField(source="study.title")
    case_code = serializers.CharField(source="study_case.case.code")
    session = serializers.CharField(source="session.name")
    session_index = serializers.IntegerField(source="session.index")
    condition = serializers.CharField(help_text="the study's condition code ('unaided': no model)")
    position = serializers.IntegerField()
    state = serializers.ChoiceField(choices=Assignment.State.choices)
    started_at = serializers.DateTimeField(allow_null=True)
    locked_at = serializers.DateTimeField(allow_null=True)


class AssignmentDetailSerializer(AssignmentListSerializer):
    prerequisite = serializers.IntegerField(source="prerequisite_id", allow_null=True)
    images = serializers.SerializerMethodField()
    questions = serializers.SerializerMethodField()

    @extend_schema_field(AssignmentImagesSerializer(allow_null=True))
    def get_images(self, obj) -> dict | None:
        series = obj.study_case.case.primary_series
        if series is None:
            return None
        return AssignmentImagesSerializer(
            {
                "dicomweb_root": "/dicomweb",
                "study_instance_uid": series.study_instance_uid,
                "series_instance_uid": series.series_instance_uid,
                "num_slices": series.num_slices,
            }
        ).data

    @extend_schema_field(ReaderQuestionSerializer(many=True))
    def get_questions(self, obj) -> list:
        return list(ReaderQuestionSerializer(question_rows(obj.study), many=True).data)


class RevisionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    kind = serializers.CharField()
    answers = serializers.DictField()
    client_active_ms = serializers.IntegerField(allow_null=True)
    server_time = serializers.DateTimeField()


class WorkspaceSerializer(AssignmentDetailSerializer):
    """What starting a read answers: the detail, the reader's revisions of it, and the answers
    the form opens with (context ``revisions`` and ``prefill``, see ``selectors``)."""

    revisions = serializers.SerializerMethodField()
    prefill = serializers.SerializerMethodField()

    @extend_schema_field(RevisionSerializer(many=True))
    def get_revisions(self, obj) -> list:
        return list(RevisionSerializer(self.context["revisions"], many=True).data)

    def get_prefill(self, obj) -> dict | None:
        return self.context["prefill"]


class SubmitResultSerializer(RevisionSerializer):
    """The submitted revision; ``created`` is false when the same request was answered before
    (context ``created``)."""

    created = serializers.SerializerMethodField()

    def get_created(self, obj) -> bool:
        return self.context["created"]


class ReadingStudySerializer(serializers.Serializer):
    """One of the reader's studies with the reader's progress in it."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=ReaderStudy.Status.choices)
    design = serializers.ChoiceField(choices=Design.choices)
    total = serializers.IntegerField(help_text="the reader's assignments")
    locked = serializers.IntegerField(help_text="of which are locked")


class NextAssignmentSerializer(serializers.Serializer):
    assignment = AssignmentListSerializer(allow_null=True)
    blocked_reason = serializers.CharField(allow_null=True)
    done = serializers.BooleanField()


# The range of ``AnswerRevision.client_active_ms`` (a positive bigint) on every database.
MAX_ACTIVE_MS = 2**63 - 1


class AnswerInputSerializer(serializers.Serializer):
    answers = serializers.DictField(validators=[storable_json])
    active_ms = serializers.IntegerField(
        min_value=0, max_value=MAX_ACTIVE_MS, required=False, allow_null=True
    )


class SubmitInputSerializer(AnswerInputSerializer):
    client_request_id = serializers.CharField(max_length=64)
    lock = serializers.BooleanField(default=False)


class WorklistQuerySerializer(serializers.Serializer):
    study = serializers.IntegerField(min_value=1, required=False, help_text="only this study")
