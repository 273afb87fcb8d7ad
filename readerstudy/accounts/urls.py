from django.urls import path

from . import views

urlpatterns = [
    path("", views.reader_list, name="reader-list"),
    path("new/", views.reader_create, name="reader-create"),
    path("<int:pk>/", views.reader_edit, name="reader-edit"),
    path("<int:pk>/active/", views.reader_active, name="reader-active"),
]
