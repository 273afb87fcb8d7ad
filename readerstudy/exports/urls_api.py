from django.urls import path

from . import views

urlpatterns = [
    path("studies/<int:pk>/reads/<slug:fmt>/", views.ReadsDownload.as_view(), name="export-reads"),
    path("studies/<int:pk>/analyses/", views.Analyses.as_view(), name="export-analyses"),
    path("analyses/<uuid:run_id>/", views.AnalysisDetail.as_view(), name="export-analysis"),
    path(
        "analyses/<uuid:run_id>/files/<str:name>",
        views.AnalysisFile.as_view(),
        name="export-analysis-file",
    ),
]
