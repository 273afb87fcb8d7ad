from django.urls import path

from . import views

urlpatterns = [
    path("uploads/", views.UploadApi.as_view(), name="api-case-upload"),
    path("imports/", views.ImportJobCreateApi.as_view(), name="api-import-jobs"),
    path("imports/<uuid:job_id>/", views.ImportJobApi.as_view(), name="api-import-job"),
    path(
        "imports/<uuid:job_id>/upload/",
        views.ImportJobUploadApi.as_view(),
        name="api-import-upload",
    ),
]
