"""The access trail (the portal's own audit trail) in the admin: read-only, for Compliance
Administrators.

Visible only with ``logs.view_accessrecord`` (the Compliance Administrator role; superusers
hold it). Nobody, superusers included, can add, change or delete a record here.
"""

import json

from django.contrib import admin
from django.utils.html import format_html

from logs.admin.read_only import ReadOnlyAdminMixin
from logs.admin.times import shown_time


class AccessRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at_shown", "username", "action", "row_count", "remote_address"]
    list_filter = ["action", "created_at", ("user", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["username"]
    search_help_text = "User name (contains); failed sign-ins carry the name that was tried."
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    list_select_related = ["user"]
    list_per_page = 100
    show_full_result_count = False
    actions = None
    fields = [
        "created_at_shown",
        "user",
        "username",
        "action",
        "row_count",
        "remote_address",
        "user_agent",
        "detail_json",
    ]
    readonly_fields = fields

    created_at_shown = shown_time("created_at", "Created at")

    @admin.display(description="Detail")
    def detail_json(self, record):
        # Escaped by format_html: filters and user names in the detail come from requests.
        return format_html(
            '<pre class="access-detail">{}</pre>',
            json.dumps(record.detail, indent=2, sort_keys=True, ensure_ascii=False),
        )
