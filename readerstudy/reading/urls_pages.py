from django.urls import path

from . import consent_views, views

urlpatterns = [
    path("", views.worklist, name="reading-worklist"),
    path("<int:study_id>/", views.workspace, name="reading-workspace"),
    path("<int:study_id>/consent/", consent_views.consent_page, name="reading-consent-page"),
]
