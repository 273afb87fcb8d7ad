"""Operations API: worker probes (administrators only)."""

from rest_framework import mixins, permissions, viewsets

from .models import WorkerProbe
from .serializers import WorkerProbeSerializer
from .services import request_worker_probe


class IsPlatformAdmin(permissions.BasePermission):
    def has_permission(self, request, view):
        return bool(
            request.user and request.user.is_authenticated and request.user.is_platform_admin
        )


class WorkerProbeApi(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Enqueue a probe task and read back which worker ran it and how often."""

    queryset = WorkerProbe.objects.all()
    serializer_class = WorkerProbeSerializer
    permission_classes = [IsPlatformAdmin]

    def perform_create(self, serializer):
        serializer.instance = request_worker_probe(
            duration_s=serializer.validated_data.get("duration_s", 0.0)
        )
