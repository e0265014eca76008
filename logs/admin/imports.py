"""Import provenance, read-only: which file brought which events, when, by whom."""

from django.contrib import admin

from logs.admin.read_only import ReadOnlyAdminMixin
from logs.admin.times import shown_time


class ImportBatchAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "started_at_shown",
        "file_name",
        "format",
        "status",
        "records_read",
        "records_new",
        "records_with_notes",
        "records_duplicate",
        "records_conflicting",
        "records_rejected",
        "imported_by_name",
    ]
    list_filter = ["status", "format", "collection_source"]
    search_fields = ["file_name", "sha256"]
    ordering = ["-started_at"]
    actions = None
    fields = [
        "file_name",
        "format",
        "sha256",
        "status",
        "started_at_shown",
        "finished_at_shown",
        "imported_by",
        "imported_by_name",
        "records_read",
        "records_new",
        "records_with_notes",
        "records_duplicate",
        "records_conflicting",
        "records_cross_format_duplicate",
        "records_rejected",
        "error",
        "collection_source",
        "window_start_shown",
        "window_end_shown",
    ]
    readonly_fields = fields

    started_at_shown = shown_time("started_at", "Started at")
    finished_at_shown = shown_time("finished_at", "Finished at")
    window_start_shown = shown_time("window_start", "Collected from (activity date)")
    window_end_shown = shown_time("window_end", "Collected to (activity date)")
