from django.urls import path

from . import api

urlpatterns = [
    path("studies/", api.ReadingStudyListApi.as_view(), name="reading-studies"),
    path("studies/<int:study_id>/next/", api.AssignmentNextApi.as_view(), name="reading-next"),
    path(
        "studies/<int:study_id>/consent/",
        api.ReadingConsentApi.as_view(),
        name="reading-consent",
    ),
    path(
        "studies/<int:study_id>/practice/",
        api.PracticeStateApi.as_view(),
        name="reading-practice",
    ),
    path(
        "studies/<int:study_id>/practice/answers/",
        api.PracticeAnswerApi.as_view(),
        name="reading-practice-answers",
    ),
    path(
        "studies/<int:study_id>/practice/cases/<int:practice_case_id>/feedback/",
        api.PracticeFeedbackApi.as_view(),
        name="reading-practice-feedback",
    ),
    path(
        "studies/<int:study_id>/practice/cases/<int:practice_case_id>/heatmaps/<slug:method>/"
        "<slug:label>/",
        api.PracticeHeatmapApi.as_view(),
        name="reading-practice-heatmap",
    ),
    path(
        "studies/<int:study_id>/practice/finish/",
        api.PracticeFinishApi.as_view(),
        name="reading-practice-finish",
    ),
    path("assignments/", api.AssignmentListApi.as_view(), name="reading-assignments"),
    path("assignments/<int:pk>/", api.AssignmentDetailApi.as_view(), name="reading-assignment"),
    path("assignments/<int:pk>/start/", api.AssignmentStartApi.as_view(), name="reading-start"),
    path("assignments/<int:pk>/draft/", api.AssignmentDraftApi.as_view(), name="reading-draft"),
    path("assignments/<int:pk>/submit/", api.AssignmentSubmitApi.as_view(), name="reading-submit"),
    path("assignments/<int:pk>/lock/", api.AssignmentLockApi.as_view(), name="reading-lock"),
    path(
        "assignments/<int:pk>/revisions/",
        api.AssignmentRevisionsApi.as_view(),
        name="reading-revisions",
    ),
    path(
        "assignments/<int:pk>/segmentations/",
        api.AssignmentSegmentationUploadApi.as_view(),
        name="reading-segmentations",
    ),
    path(
        "assignments/<int:pk>/segmentations/<str:sha256>/",
        api.AssignmentSegmentationApi.as_view(),
        name="reading-segmentation",
    ),
    path(
        "assignments/<int:pk>/assistance/",
        api.AssignmentAssistanceApi.as_view(),
        name="reading-assistance",
    ),
    path(
        "assignments/<int:pk>/assistance/heatmaps/<slug:method>/",
        api.AssignmentHeatmapApi.as_view(),
        name="reading-assistance-heatmap",
    ),
    path(
        "assignments/<int:pk>/assistance/heatmaps/<slug:method>/<slug:label>/",
        api.AssignmentLabelHeatmapApi.as_view(),
        name="reading-assistance-heatmap-label",
    ),
    path(
        "assignments/<int:pk>/assistance/truth-mask/",
        api.AssignmentTruthMaskApi.as_view(),
        name="reading-assistance-truth-mask",
    ),
    path(
        "assignments/<int:pk>/assistance/mask/",
        api.AssignmentMaskApi.as_view(),
        name="reading-assistance-mask",
    ),
]
