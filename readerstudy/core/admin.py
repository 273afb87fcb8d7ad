from django.contrib import admin

from .models import WorkerProbe


@admin.register(WorkerProbe)
class WorkerProbeAdmin(admin.ModelAdmin):
    list_display = ("id", "status", "attempts", "completions", "worker_host", "created_at")
    readonly_fields = [f.name for f in WorkerProbe._meta.fields]
