from django.urls import path

from . import api

urlpatterns = [
    path(
        "studies/<int:pk>/reads/<slug:fmt>/",
        api.StudyReadsDownloadApi.as_view(),
        name="export-reads",
    ),
    path(
        "studies/<int:pk>/scores/<slug:fmt>/",
        api.StudyScoresDownloadApi.as_view(),
        name="export-scores",
    ),
    path(
        "studies/<int:pk>/clinical/<slug:fmt>/",
        api.StudyClinicalDownloadApi.as_view(),
        name="export-clinical",
    ),
    path(
        "studies/<int:pk>/consent/<slug:fmt>/",
        api.StudyConsentDownloadApi.as_view(),
        name="export-consent",
    ),
    path("studies/<int:pk>/analyses/", api.AnalysisRunListApi.as_view(), name="export-analyses"),
    path(
        "studies/<int:pk>/bundle/",
        api.StudyBundleDownloadApi.as_view(),
        name="export-bundle",
    ),
    path(
        "studies/<int:pk>/froc/workbook/",
        api.FrocWorkbookApi.as_view(),
        name="export-froc-workbook",
    ),
    path(
        "studies/<int:pk>/froc/scoring/",
        api.LocalizationScoringApi.as_view(),
        name="export-froc-scoring",
    ),
    path(
        "studies/<int:pk>/segmentations/dice/<slug:fmt>/",
        api.SegmentationDiceApi.as_view(),
        name="export-segmentation-dice",
    ),
    path(
        "studies/<int:pk>/segmentations/archive/<slug:fmt>/",
        api.SegmentationArchiveApi.as_view(),
        name="export-segmentation-archive",
    ),
    path(
        "studies/<int:pk>/segmentations/<int:assignment_id>/seg/",
        api.SegmentationSegApi.as_view(),
        name="export-segmentation-seg",
    ),
    path("analyses/<uuid:run_id>/", api.AnalysisRunDetailApi.as_view(), name="export-analysis"),
    path(
        "analyses/<uuid:run_id>/cancel/",
        api.AnalysisRunCancelApi.as_view(),
        name="export-analysis-cancel",
    ),
    path(
        "analyses/<uuid:run_id>/files/<str:name>",
        api.AnalysisRunFileApi.as_view(),
        name="export-analysis-file",
    ),
]
