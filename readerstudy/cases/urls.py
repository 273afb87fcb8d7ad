from django.urls import path

from . import truth_views, views

urlpatterns = [
    path("", views.case_list, name="case-list"),
    path("labels/", truth_views.labels_upload, name="case-labels-upload"),
    path("<str:code>/", truth_views.case_detail, name="case-detail"),
    path("<str:code>/thumbnail.png", views.thumbnail, name="case-thumbnail"),
]
