from django.urls import path

from . import views

urlpatterns = [
    path("studies/<int:pk>/", views.study_trail, name="study-audit"),
    path("studies/<int:pk>/csv/", views.study_trail_csv, name="study-audit-csv"),
]
