from django.urls import path

from . import api

urlpatterns = [
    path("models/", api.ModelVersionListApi.as_view(), name="api-models"),
    path("jobs/", api.InferenceJobListApi.as_view(), name="api-jobs"),
    path("jobs/<uuid:pk>/", api.InferenceJobDetailApi.as_view(), name="api-job"),
    path("jobs/<uuid:pk>/dicom/", api.InferenceJobDicomApi.as_view(), name="api-job-dicom"),
    path("jobs/<uuid:pk>/cancel/", api.InferenceJobCancelApi.as_view(), name="api-job-cancel"),
]
