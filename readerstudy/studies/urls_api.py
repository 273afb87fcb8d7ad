from django.urls import path

from . import api

urlpatterns = [
    path("", api.Studies.as_view(), name="api-studies"),
    path("<int:pk>/", api.StudyDetail.as_view(), name="api-study"),
    path("<int:pk>/cases/", api.StudyCases.as_view(), name="api-study-cases"),
    path("<int:pk>/readers/", api.StudyReaders.as_view(), name="api-study-readers"),
    path("<int:pk>/questions/", api.StudyQuestions.as_view(), name="api-study-questions"),
    path("<int:pk>/assistance/", api.StudyAssistance.as_view(), name="api-study-assistance"),
    path("<int:pk>/open/", api.StudyOpen.as_view(), name="api-study-open"),
    path("<int:pk>/close/", api.StudyClose.as_view(), name="api-study-close"),
    path(
        "<int:pk>/grant-statistician/",
        api.StudyGrant.as_view(),
        name="api-study-grant",
    ),
    path("<int:pk>/progress/", api.StudyProgress.as_view(), name="api-study-progress"),
]
