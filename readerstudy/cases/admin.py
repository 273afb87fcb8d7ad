"""The case library in Django's admin, for platform administrators' power use.

Series and import jobs are records of what was imported: shown, never edited there.
"""

from django.contrib import admin

from readerstudy.core.admin_base import ReadOnlyAdmin

from .models import Case, Collection, GroundTruth, ImportJob, Series


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = ("name", "description", "created_at")
    search_fields = ("name", "description")


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("code", "collection", "status", "site", "scanner", "created_at")
    list_filter = ("status", "collection")
    search_fields = ("code", "site", "scanner")
    list_select_related = ("collection",)
    readonly_fields = ("code", "source_key", "primary_series", "created_at")
    fields = (
        "code", "collection", "status", "quarantine_reason", "primary_series",
        "primary_series_overridden", "site", "scanner", "source_key", "created_at",
    )  # fmt: skip


@admin.register(Series)
class SeriesAdmin(ReadOnlyAdmin):
    list_display = ("case", "series_number", "modality", "description", "num_slices", "rows")
    list_filter = ("modality",)
    search_fields = ("case__code", "description", "series_instance_uid")
    list_select_related = ("case",)


@admin.register(GroundTruth)
class GroundTruthAdmin(admin.ModelAdmin):
    list_display = ("case", "etiology", "ich_present", "location", "source", "updated_at")
    list_filter = ("etiology", "ich_present", "location")
    search_fields = ("case__code", "etiology", "source")
    list_select_related = ("case",)
    raw_id_fields = ("case",)


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = ("id", "source", "status", "phase", "created_case", "created_by", "created_at")
    list_filter = ("source", "status")
    search_fields = ("id", "cases__code", "collection_name")
    list_select_related = ("created_by",)
