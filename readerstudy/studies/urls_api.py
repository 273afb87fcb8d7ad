from django.urls import path

from . import api

urlpatterns = [
    path("", api.StudyListApi.as_view(), name="api-studies"),
    path("<int:pk>/", api.StudyDetailApi.as_view(), name="api-study"),
    path("<int:pk>/cases/", api.StudyCasesApi.as_view(), name="api-study-cases"),
    path("<int:pk>/readers/", api.StudyReadersApi.as_view(), name="api-study-readers"),
    path("<int:pk>/questions/", api.StudyQuestionsApi.as_view(), name="api-study-questions"),
    path("<int:pk>/endpoints/", api.StudyEndpointsApi.as_view(), name="api-study-endpoints"),
    path("<int:pk>/preset/", api.StudyPresetApi.as_view(), name="api-study-preset"),
    path("<int:pk>/assistance/", api.StudyAssistanceApi.as_view(), name="api-study-assistance"),
    path("<int:pk>/conditions/", api.StudyConditionsApi.as_view(), name="api-study-conditions"),
    path("<int:pk>/open/", api.StudyOpenApi.as_view(), name="api-study-open"),
    path("<int:pk>/close/", api.StudyCloseApi.as_view(), name="api-study-close"),
    path(
        "<int:pk>/grant-statistician/",
        api.StudyGrantApi.as_view(),
        name="api-study-grant",
    ),
    path("<int:pk>/progress/", api.StudyProgressApi.as_view(), name="api-study-progress"),
]
