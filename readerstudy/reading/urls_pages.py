from django.urls import path

from . import views

urlpatterns = [
    path("", views.worklist, name="reading-worklist"),
    path("<int:study_id>/", views.workspace, name="reading-workspace"),
]
