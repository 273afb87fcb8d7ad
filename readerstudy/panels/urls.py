from django.urls import path

from . import views

urlpatterns = [
    path("", views.panel_list, name="panel-list"),
    path("new/", views.panel_new, name="panel-new"),
    path("mine/", views.my_panels, name="panel-worklist"),
    path("<int:pk>/", views.panel_detail, name="panel-detail"),
    path("<int:pk>/finalize/", views.panel_finalize, name="panel-finalize"),
    path("<int:pk>/vote/rerun/", views.panel_vote_rerun, name="panel-vote-rerun"),
    path("<int:pk>/report/", views.panel_report, name="panel-report"),
    path(
        "<int:pk>/report/<str:table>.csv",
        views.panel_report_csv,
        name="panel-report-csv",
    ),
    path("<int:pk>/annotate/", views.annotate_list, name="panel-annotate"),
    path("<int:pk>/annotate/<str:code>/", views.annotate_case, name="panel-annotate-case"),
    path(
        "<int:pk>/annotate/<str:code>/segmentations/",
        views.mask_upload,
        name="panel-mask-upload",
    ),
    path(
        "<int:pk>/annotate/<str:code>/segmentations/<str:sha256>/",
        views.mask_download,
        name="panel-mask",
    ),
    path("<int:pk>/adjudicate/", views.adjudicate_list, name="panel-adjudicate"),
    path("<int:pk>/adjudicate/<str:code>/", views.adjudicate_case, name="panel-adjudicate-case"),
]
