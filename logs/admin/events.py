"""The audit-log blade: a read-only changelist and detail page for AuditEvent.

Nobody — superusers included — can add, change or delete events here; the only actions are
looking, filtering and downloading. Columns come from the shared column registry and each user's
choice is remembered; filters are the shared FilterSet's.

*Download* exports the current filtered view — every matching event, not only the page on
screen, up to ``WEB_EXPORT_LIMIT`` (the newest ones) — as CSV with the columns the user chose,
or as Graph-shaped JSON. The actions "Export selected as CSV/JSON" do the same for ticked rows.
Both need the ``logs.export_auditevent`` permission and are recorded as AccessRecords.
"""

import json
from functools import partial
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG, ORDER_VAR, PAGE_VAR, ChangeList
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from logs.admin import list_filters
from logs.admin.insights import insights_view
from logs.admin.pagination import EstimatedCountPaginator
from logs.admin.read_only import ReadOnlyAdminMixin
from logs.admin.retention import retention_policy_view
from logs.columns import COLUMNS, DEFAULT_COLUMN_KEYS, known_column_keys
from logs.columns import target_label as column_target_label
from logs.exports import WEB_EXPORT_LIMIT, Export
from logs.exports.web import EXPORT_PERMISSION, export_response
from logs.filters import ORDERINGS, AuditEventFilterSet
from logs.ingest.graph_shape import ZERO_GUID
from logs.models import AuditEvent, ColumnPreference
from logs.property_values import is_decoded, readable_value
from logs.routing import read_only_view


def _column_display(column):
    """An admin list_display callable for one registry column."""

    def display(obj):
        return column.value(obj)

    display.short_description = column.header
    if column.order_field:
        display.admin_order_field = column.order_field
    display.__name__ = f"column_{column.key}"
    return display


class AuditEventChangeList(ChangeList):
    """Keeps the (date, id) order total, so paging never skips or repeats a row."""

    def get_ordering(self, request, queryset):
        requested = request.GET.get("ordering")
        if requested in ORDERINGS and ORDER_VAR not in request.GET:
            return list(ORDERINGS[requested][1])
        ordering = super().get_ordering(request, queryset)
        if "-pk" in ordering or "pk" in ordering:
            return ordering
        descending = any(field.startswith("-activity_datetime") for field in ordering)
        return [*ordering, "-id" if descending or not ordering else "id"]

    @property
    def export_limit(self) -> int:
        return WEB_EXPORT_LIMIT

    @property
    def export_exceeds_limit(self) -> bool:
        """Whether a download of this view holds only its newest events (said before it starts;
        beyond the exact-count limit the count is PostgreSQL's estimate)."""
        return self.result_count > WEB_EXPORT_LIMIT

    @property
    def export_query_string(self) -> str:
        return self.get_query_string(remove=[PAGE_VAR, ERROR_FLAG])


class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [f"column_{key}" for key in DEFAULT_COLUMN_KEYS]
    list_filter = [
        list_filters.DateRangeFilter,
        list_filters.ServiceFilter,
        list_filters.CategoryFilter,
        list_filters.ActivityFilter,
        list_filters.StatusFilter,
        list_filters.OperationTypeFilter,
        list_filters.TargetTypeFilter,
        list_filters.InformationalFilter,
        list_filters.InitiatorFilter,
        list_filters.TargetFilter,
        list_filters.CorrelationFilter,
        list_filters.OrderingParameter,
    ]
    search_fields = ["entra_id"]  # shows the search box; the FilterSet does the searching
    search_help_text = (
        "Activity or initiator (contains); target name, UPN or id, correlation id or "
        "activity id (exact)."
    )
    ordering = ["-activity_datetime", "-id"]
    list_per_page = 50
    list_max_show_all = 0
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts would scan the event table
    paginator = EstimatedCountPaginator
    actions = ["export_selected_csv", "export_selected_json"]
    change_list_template = "admin/logs/auditevent/change_list.html"

    # Registry columns become methods named column_<key>, so list_display can name them.
    for _column in COLUMNS:
        locals()[f"column_{_column.key}"] = staticmethod(_column_display(_column))
    del _column

    def has_export_permission(self, request):
        return request.user.has_perm(EXPORT_PERMISSION)

    # -- listing --------------------------------------------------------------------------
    def get_queryset(self, request):
        return AuditEvent.objects.for_listing()

    def get_changelist(self, request, **kwargs):
        return AuditEventChangeList

    def chosen_column_keys(self, request) -> list[str]:
        preference = ColumnPreference.objects.filter(user=request.user).first()
        keys = known_column_keys(preference.columns) if preference else []
        return keys or DEFAULT_COLUMN_KEYS

    def get_list_display(self, request):
        return [f"column_{key}" for key in self.chosen_column_keys(request)]

    def get_list_display_links(self, request, list_display):
        return list_display[:1]

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        filterset = AuditEventFilterSet(data={"search": search_term}, queryset=queryset)
        if not filterset.is_valid():
            messages.error(request, filterset.errors.as_text())
            return queryset.none(), False
        return filterset.qs, False

    @method_decorator(read_only_view)
    def changelist_view(self, request, extra_context=None):
        chosen = self.chosen_column_keys(request)
        extra_context = {
            **(extra_context or {}),
            "column_choices": [
                {"key": c.key, "header": c.header, "chosen": c.key in chosen} for c in COLUMNS
            ],
            "columns_url": reverse("admin:logs_auditevent_columns"),
            "has_export_permission": self.has_export_permission(request),
        }
        return super().changelist_view(request, extra_context)

    # -- download -------------------------------------------------------------------------
    def export_view(self, request, format):
        """The current filtered view as a file: the changelist's own query, every page."""
        if format not in ("csv", "json"):
            raise Http404("Downloads are CSV or JSON.")
        if not (self.has_view_permission(request) and self.has_export_permission(request)):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            messages.error(request, "The download's filters are not valid; nothing was exported.")
            return HttpResponseRedirect(reverse("admin:logs_auditevent_changelist"))
        events = changelist.get_queryset(request)
        return self._export(request, events, format, via="admin download")

    @admin.action(description="Export selected as CSV", permissions=["export"])
    def export_selected_csv(self, request, queryset):
        return self._export(request, queryset, "csv", via="admin action")

    @admin.action(description="Export selected as JSON", permissions=["export"])
    def export_selected_json(self, request, queryset):
        return self._export(request, queryset, "json", via="admin action")

    def _export(self, request, events, format, *, via):
        export = Export(
            events,
            format,
            columns=self.chosen_column_keys(request) if format == "csv" else None,
            limit=WEB_EXPORT_LIMIT,
        )
        filters = {
            key: value
            for key, value in request.GET.items()
            if key not in (PAGE_VAR, ERROR_FLAG, "_changelist_filters")
        }
        if via == "admin action":
            filters["selected"] = len(request.POST.getlist(ACTION_CHECKBOX_NAME))
            filters["select_across"] = request.POST.get("select_across") == "1"
        return export_response(request, export, filters=filters, via=via)

    # -- column chooser -------------------------------------------------------------------
    def get_urls(self):
        columns_view = self.admin_site.admin_view(require_POST(self.save_columns_view))
        # The pages that only read (and the changelist and detail, decorated above) may be
        # answered by the read replica: see logs.routing.
        export_view = self.admin_site.admin_view(read_only_view(self.export_view))
        insights = self.admin_site.admin_view(read_only_view(partial(insights_view, self)))
        retention = self.admin_site.admin_view(partial(retention_policy_view, self))
        return [
            path("insights/", insights, name="logs_auditevent_insights"),
            path("retention/", retention, name="logs_auditevent_retention"),
            path("columns/", columns_view, name="logs_auditevent_columns"),
            path("export/<str:format>/", export_view, name="logs_auditevent_export"),
            *super().get_urls(),
        ]

    def save_columns_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.POST.get("reset"):
            keys = DEFAULT_COLUMN_KEYS
        else:
            keys = known_column_keys(request.POST.getlist("columns")) or DEFAULT_COLUMN_KEYS
        ColumnPreference.objects.update_or_create(user=request.user, defaults={"columns": keys})
        changelist = reverse("admin:logs_auditevent_changelist")
        target = request.POST.get("next", "")
        if not target.startswith(changelist) or not url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}
        ):
            target = changelist
        return HttpResponseRedirect(target)

    # -- detail ---------------------------------------------------------------------------
    @method_decorator(read_only_view)
    def change_view(self, request, object_id, form_url="", extra_context=None):
        event = (
            AuditEvent.objects.select_related(
                "service", "category", "activity", "initiator", "import_batch"
            )
            .prefetch_related("targets__modified_properties", "annotations__created_by")
            .filter(pk=object_id)
            .first()
            if str(object_id).isdigit()
            else None
        )
        if event is None:
            raise Http404("No audit event with that id.")
        if not self.has_view_permission(request, event):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            **(extra_context or {}),
            "opts": self.opts,
            "title": f"{event.activity.name} — {event.activity_datetime:%Y-%m-%d %H:%M:%S} UTC",
            "event": event,
            "targets": [
                {
                    "target": target,
                    "properties": [
                        {
                            "name": prop.name,
                            "old": readable_value(prop.old_value),
                            "new": readable_value(prop.new_value),
                            "old_raw": prop.old_value if is_decoded(prop.old_value) else None,
                            "new_raw": prop.new_value if is_decoded(prop.new_value) else None,
                        }
                        for prop in target.modified_properties.all()
                    ],
                }
                for target in event.targets.all()
            ],
            "original_pretty": _pretty_json(event.original),
            "links": _related_links(event),
        }
        return TemplateResponse(request, "admin/logs/auditevent/detail.html", context)


def _pretty_json(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return text


def _related_links(event) -> list[tuple[str, str]]:
    """(label, changelist URL) for the events an investigator looks at next."""
    changelist = reverse("admin:logs_auditevent_changelist")
    links = []
    if event.correlation_id:
        links.append(
            ("Events with the same correlation id", {"correlation_id": event.correlation_id})
        )
    initiator = event.initiator
    if initiator and initiator.kind != initiator.Kind.SYSTEM:
        key = (
            initiator.user_object_id
            or initiator.app_id
            or initiator.service_principal_id
            or initiator.name
        )
        links.append((f"Other events by {initiator.name}", {"initiator": key}))
    for target in event.targets.all():
        key = target.object_id or target.user_principal_name or target.display_name
        if key and key != ZERO_GUID:
            links.append((f"Other events on {column_target_label(target)}", {"target": key}))
    return [(label, f"{changelist}?{urlencode(query)}") for label, query in links]
