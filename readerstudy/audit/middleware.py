"""django-auditlog's middleware, with the actor resolved when an entry is written.

The stock middleware reads ``request.user`` before the view runs, so API requests that
authenticate in the view (token, HTTP Basic) would log no actor; a lazy actor sees the user
the view authenticated (DRF sets it on the underlying request).
"""

from typing import Any

from auditlog.middleware import AuditlogMiddleware
from django.utils.functional import SimpleLazyObject


class LazyActorAuditlogMiddleware(AuditlogMiddleware):
    def get_extra_data(self, request: Any) -> dict[str, Any]:
        data = super().get_extra_data(request)
        data["actor"] = SimpleLazyObject(lambda: getattr(request, "user", None))
        return data
