from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from readerstudy.core import views as core_views
from readerstudy.core.api import WorkerProbeApi

router = DefaultRouter()
router.register("ops/worker-probes", WorkerProbeApi, basename="worker-probe")

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("cases/", include("readerstudy.cases.urls")),
    path("api/cases/", include("readerstudy.cases.urls_api")),
    path("studies/", include("readerstudy.studies.urls")),
    path("panels/", include("readerstudy.panels.urls")),
    path("readers/", include("readerstudy.accounts.urls")),
    path("read/", include("readerstudy.reading.urls_pages")),
    path("exports/", include("readerstudy.exports.urls")),
    path("audit/", include("readerstudy.audit.urls")),
    path("api/exports/", include("readerstudy.exports.urls_api")),
    path("api/", include(router.urls)),
    path("api/reading/", include("readerstudy.reading.urls")),
    path("api/studies/", include("readerstudy.studies.urls_api")),
    path("api/ai/", include("readerstudy.ai.urls_api")),
    path("dicomweb/", include("readerstudy.cases.urls_dicomweb")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]

handler403 = "readerstudy.core.views.permission_denied"
