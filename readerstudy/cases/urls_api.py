from django.urls import path

from . import truth_views, views

urlpatterns = [
    path("uploads/", views.UploadApi.as_view(), name="api-case-upload"),
    path("imports/", views.ImportJobCreateApi.as_view(), name="api-import-jobs"),
    path("imports/<uuid:job_id>/", views.ImportJobApi.as_view(), name="api-import-job"),
    path(
        "imports/<uuid:job_id>/upload/",
        views.ImportJobUploadApi.as_view(),
        name="api-import-upload",
    ),
    path("labels/", truth_views.LabelsApi.as_view(), name="api-case-labels"),
    path("<str:code>/truth/", truth_views.CaseTruthApi.as_view(), name="api-case-truth"),
]
