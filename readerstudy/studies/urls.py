from django.urls import path

from . import views

urlpatterns = [
    path("", views.study_list, name="study-list"),
    path("<int:pk>/", views.study_detail, name="study-detail"),
    path("<int:pk>/delete/", views.study_delete, name="study-delete"),
    path("<int:pk>/<slug:action>/", views.study_action, name="study-action"),
]
