"""The admin shows audit entries read-only: no add, change or delete (bulk delete included)."""

from typing import Any

from auditlog.admin import LogEntryAdmin
from django.contrib import admin

from .models import AuditEntry

if admin.site.is_registered(AuditEntry):
    admin.site.unregister(AuditEntry)


@admin.register(AuditEntry)
class AuditEntryAdmin(LogEntryAdmin):
    list_display = ["created", "kind", "resource_url", "msg_short", "user_url", "study"]
    list_filter = ["kind", *LogEntryAdmin.list_filter]
    actions = None

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
