from django.urls import path

from . import views

urlpatterns = [
    path("", views.export_list, name="export-list"),
    path("studies/<int:pk>/marks/", views.study_marks, name="export-marks"),
    path("studies/<int:pk>/analyse/", views.analysis_request, name="analysis-request"),
    path("analyses/<uuid:run_id>/", views.analysis_page, name="analysis-page"),
]
