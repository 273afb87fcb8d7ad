from django.urls import path

from . import (
    condition_views,
    consent_views,
    editor_views,
    practice_views,
    prediction_views,
    views,
)

urlpatterns = [
    path("", views.study_list, name="study-list"),
    path("<int:pk>/", views.study_detail, name="study-detail"),
    path("<int:pk>/delete/", views.study_delete, name="study-delete"),
    path("<int:pk>/questions/new/", editor_views.question_new, name="study-question-new"),
    path(
        "<int:pk>/questions/<slug:code>/edit/",
        editor_views.question_edit,
        name="study-question-edit",
    ),
    path(
        "<int:pk>/questions/<slug:code>/delete/",
        editor_views.question_delete,
        name="study-question-delete",
    ),
    path(
        "<int:pk>/questions/<slug:code>/move/",
        editor_views.question_move,
        name="study-question-move",
    ),
    path("<int:pk>/endpoints/new/", editor_views.endpoint_new, name="study-endpoint-new"),
    path(
        "<int:pk>/endpoints/<slug:code>/edit/",
        editor_views.endpoint_edit,
        name="study-endpoint-edit",
    ),
    path(
        "<int:pk>/endpoints/<slug:code>/delete/",
        editor_views.endpoint_delete,
        name="study-endpoint-delete",
    ),
    path(
        "<int:pk>/predictions/import/",
        prediction_views.predictions_import,
        name="study-predictions-import",
    ),
    path("<int:pk>/preset/", editor_views.preset_apply, name="study-preset"),
    path("<int:pk>/conditions/new/", condition_views.condition_add, name="study-condition-new"),
    path(
        "<int:pk>/conditions/<slug:code>/edit/",
        condition_views.condition_edit,
        name="study-condition-edit",
    ),
    path(
        "<int:pk>/conditions/<slug:code>/delete/",
        condition_views.condition_delete,
        name="study-condition-delete",
    ),
    path(
        "<int:pk>/conditions/<slug:code>/move/",
        condition_views.condition_move,
        name="study-condition-move",
    ),
    path("<int:pk>/consent/", consent_views.consent_edit, name="study-consent"),
    path("<int:pk>/practice/", practice_views.practice_configure, name="study-practice"),
    path(
        "<int:pk>/practice/cases/add/", practice_views.practice_case_add, name="study-practice-add"
    ),
    path(
        "<int:pk>/practice/cases/remove/",
        practice_views.practice_case_remove,
        name="study-practice-remove",
    ),
    path("<int:pk>/practice/grant/", practice_views.practice_grant, name="study-practice-grant"),
    path("<int:pk>/<slug:action>/", views.study_action, name="study-action"),
]
