from django.urls import path

from . import api

urlpatterns = [
    path("studies/", api.MyStudies.as_view(), name="reading-studies"),
    path("studies/<int:study_id>/next/", api.NextAssignment.as_view(), name="reading-next"),
    path("assignments/", api.AssignmentList.as_view(), name="reading-assignments"),
    path("assignments/<int:pk>/", api.AssignmentDetail.as_view(), name="reading-assignment"),
    path("assignments/<int:pk>/start/", api.StartAssignment.as_view(), name="reading-start"),
    path("assignments/<int:pk>/draft/", api.SaveDraft.as_view(), name="reading-draft"),
    path("assignments/<int:pk>/submit/", api.Submit.as_view(), name="reading-submit"),
    path("assignments/<int:pk>/lock/", api.Lock.as_view(), name="reading-lock"),
    path("assignments/<int:pk>/revisions/", api.Revisions.as_view(), name="reading-revisions"),
    path("assignments/<int:pk>/assistance/", api.Assistance.as_view(), name="reading-assistance"),
    path(
        "assignments/<int:pk>/assistance/heatmaps/<slug:method>/",
        api.AssistanceHeatmap.as_view(),
        name="reading-assistance-heatmap",
    ),
    path(
        "assignments/<int:pk>/assistance/mask/",
        api.AssistanceMask.as_view(),
        name="reading-assistance-mask",
    ),
]
