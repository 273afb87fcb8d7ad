from django.urls import path

from . import api

urlpatterns = [
    path("uploads/", api.CaseUploadApi.as_view(), name="api-case-upload"),
    path("imports/", api.ImportJobCreateApi.as_view(), name="api-import-jobs"),
    path("imports/<uuid:job_id>/", api.ImportJobDetailApi.as_view(), name="api-import-job"),
    path(
        "imports/<uuid:job_id>/upload/",
        api.ImportJobUploadApi.as_view(),
        name="api-import-upload",
    ),
    path(
        "imports/<uuid:job_id>/cancel/",
        api.ImportJobCancelApi.as_view(),
        name="api-import-cancel",
    ),
    path("labels/", api.CaseLabelsUploadApi.as_view(), name="api-case-labels"),
    path("<str:code>/truth/", api.CaseTruthDetailApi.as_view(), name="api-case-truth"),
]
