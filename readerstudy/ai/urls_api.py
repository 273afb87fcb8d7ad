from django.urls import path

from . import api

urlpatterns = [
    path("models/", api.Models.as_view(), name="api-models"),
    path("jobs/", api.Jobs.as_view(), name="api-jobs"),
    path("jobs/<uuid:pk>/", api.JobDetail.as_view(), name="api-job"),
    path("jobs/<uuid:pk>/dicom/", api.JobDicomExport.as_view(), name="api-job-dicom"),
    path("jobs/<uuid:pk>/cancel/", api.JobCancel.as_view(), name="api-job-cancel"),
]
