from django.urls import path

from . import dicomweb

urlpatterns = [
    path("studies", dicomweb.qido_studies, name="qido-studies"),
    path("studies/<str:study_uid>/series", dicomweb.qido_series, name="qido-series"),
    path(
        "studies/<str:study_uid>/series/<str:series_uid>/instances",
        dicomweb.qido_instances,
        name="qido-instances",
    ),
    path(
        "studies/<str:study_uid>/series/<str:series_uid>/metadata",
        dicomweb.series_metadata,
        name="wado-series-metadata",
    ),
    path(
        "studies/<str:study_uid>/series/<str:series_uid>/instances/<str:sop_uid>",
        dicomweb.retrieve_instance,
        name="wado-instance",
    ),
    path(
        "studies/<str:study_uid>/series/<str:series_uid>/instances/<str:sop_uid>/frames/<str:frames>",
        dicomweb.retrieve_frames,
        name="wado-frames",
    ),
]
