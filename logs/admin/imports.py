"""Import provenance, read-only: which file brought which events, when, by whom."""

from django.contrib import admin

from logs.admin.read_only import ReadOnlyAdminMixin


class ImportBatchAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "started_at",
        "file_name",
        "format",
        "status",
        "records_read",
        "records_new",
        "records_duplicate",
        "records_rejected",
        "imported_by_name",
    ]
    list_filter = ["status", "format"]
    search_fields = ["file_name", "sha256"]
    ordering = ["-started_at"]
    actions = None
