from django.urls import path

from . import views

urlpatterns = [
    path("uploads/", views.UploadApi.as_view(), name="api-case-upload"),
    path("imports/<uuid:job_id>/", views.ImportJobApi.as_view(), name="api-import-job"),
]
