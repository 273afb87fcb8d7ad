"""The study models in the Django admin, for platform admins.

Coordinators build studies in their own pages, through the services. Here, what belongs to a
study may change only while it is a draft; sessions, arms and assignments are read-only, since
opening a study generates them from its recorded seed.
"""

from django.contrib import admin

from readerstudy.core.admin_base import ReadOnlyAdmin

from .models import (
    Arm,
    Assignment,
    AssistanceConfig,
    Endpoint,
    Question,
    ReaderStudy,
    ReadingSession,
    StudyCase,
    StudyCondition,
    StudyReader,
)


class DraftOnlyAdmin(admin.ModelAdmin):
    """Rows of a study: editable while the study is a draft, read-only once it is opened."""

    def _frozen(self, obj) -> bool:
        return obj is not None and obj.study.is_frozen

    def has_change_permission(self, request, obj=None):
        return not self._frozen(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._frozen(obj) and super().has_delete_permission(request, obj)


@admin.register(ReaderStudy)
class ReaderStudyAdmin(admin.ModelAdmin):
    list_display = ("title", "design", "status", "created_at", "opened_at", "closed_at")
    list_filter = ("status", "design")
    search_fields = ("title",)
    readonly_fields = (
        "status", "design", "randomization_seed", "washout_days", "truth_pending_allowed",
        "created_by", "created_at", "opened_at", "closed_at",
    )  # fmt: skip

    def has_add_permission(self, request):
        return False  # a study is created with its sessions and arms, in the coordinator pages


@admin.register(StudyCase)
class StudyCaseAdmin(DraftOnlyAdmin):
    list_display = ("study", "case", "group")
    list_filter = ("study",)
    search_fields = ("case__code",)
    raw_id_fields = ("case",)


@admin.register(StudyReader)
class StudyReaderAdmin(DraftOnlyAdmin):
    list_display = ("study", "user", "arm", "enrolled_at")
    list_filter = ("study",)
    readonly_fields = ("arm", "order_seed")


@admin.register(AssistanceConfig)
class AssistanceConfigAdmin(DraftOnlyAdmin):
    list_display = ("study", "condition", "model_version", "operating_point")
    readonly_fields = ("study", "condition")

    def has_add_permission(self, request):
        return False  # made with its condition, in the coordinator pages


@admin.register(StudyCondition)
class StudyConditionAdmin(ReadOnlyAdmin):
    list_display = ("study", "order", "code", "name")
    list_filter = ("study",)


@admin.register(Question)
class QuestionAdmin(DraftOnlyAdmin):
    list_display = ("study", "order", "code", "type", "is_primary", "required")
    list_filter = ("study", "type")


@admin.register(Endpoint)
class EndpointAdmin(DraftOnlyAdmin):
    list_display = ("study", "order", "code", "kind", "truth_field", "is_primary")
    list_filter = ("kind", "truth_field")
    raw_id_fields = ("question", "rating_question")


@admin.register(ReadingSession)
class ReadingSessionAdmin(ReadOnlyAdmin):
    list_display = ("study", "index", "name", "washout_days", "opens_at")
    list_filter = ("study",)


@admin.register(Arm)
class ArmAdmin(ReadOnlyAdmin):
    list_display = ("study", "name")
    list_filter = ("study",)


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ("study", "reader", "study_case", "session", "condition", "position", "state")
    list_filter = ("study", "state", "condition")
