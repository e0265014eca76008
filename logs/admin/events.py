"""The audit-log blade: a read-only changelist and detail page for AuditEvent.

Nobody — superusers included — can add, change or delete events here; the only actions are
looking, filtering and downloading. Columns come from the shared column registry and each user's
choice is remembered; filters are the shared FilterSet's.

*Download* exports the current filtered view — every matching event, not only the page on
screen, up to ``WEB_EXPORT_LIMIT`` (the newest ones) — as CSV with the columns the user chose,
or as JSON (directoryAudit records as Microsoft Graph serves them). The actions "Export
selected as CSV/JSON" do the same for ticked rows.
Both need the ``logs.export_auditevent`` permission and are recorded as AccessRecords.
"""

import copy
import json
from functools import partial
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import InvalidPage
from django.http import Http404, HttpResponseBadRequest, HttpResponseRedirect, QueryDict
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from logs.admin import empty_view, list_filters
from logs.admin.applied_filters import FILTER_NAMES, AppliedFilters, export_refused
from logs.admin.insights import insights_view
from logs.admin.neighbours import neighbours
from logs.admin.pagination import EstimatedCountPaginator
from logs.admin.read_only import ReadOnlyAdminMixin
from logs.admin.refusal import refusal_response
from logs.admin.retention import retention_policy_view
from logs.admin.times import local_dates_redirect
from logs.admin_site import RefusedLookupValues
from logs.columns import COLUMNS, DEFAULT_COLUMN_KEYS, known_column_keys
from logs.columns import target_label as column_target_label
from logs.display_time import choosable_time_zones, display_zone, utc_text
from logs.event_by_id import event_by_id, event_id_in
from logs.exports import WEB_EXPORT_LIMIT, Export
from logs.exports.csv_files import PORTAL_HEADER
from logs.exports.web import EXPORT_PERMISSION, export_response
from logs.filters import ORDERINGS
from logs.ingest.graph_shape import ZERO_GUID
from logs.models import AuditEvent, ColumnPreference
from logs.models.preferences import preference_of
from logs.property_values import is_decoded, readable_value
from logs.routing import read_only_view
from logs.sorting import ColumnSort


def _column_display(column):
    """An admin list_display callable for one registry column."""

    def display(obj):
        # In a box of at most two lines (portal.css); the whole value in its title, for a cell
        # the two lines cut short (the detail page shows it all).
        value = column.value(obj)
        shown = column.display(obj) if column.display else value
        return format_html('<span class="cell" title="{}">{}</span>', value, shown)

    display.short_description = column.header
    if column.sort:
        # Marks the header sortable; AuditEventChangeList reads the sort (COLUMN_SORTS).
        display.admin_order_field = column.sort
    display.__name__ = f"column_{column.key}"
    # The column itself, for the changelist's row rendering (logs.admin.result_rows).
    display.column = column
    return display


class AuditEventChangeList(ChangeList):
    """The changelist of audit events: the shared FilterSet applied once, with every parameter.

    The sidebar filters only show and carry their parameters; this class applies the whole
    FilterSet (``AppliedFilters``), so the page, its Download link, its actions and the access
    record of an export all mean the same parameters. A value the FilterSet refuses, or a page
    number past the last page, is reported on the page, which then shows no events (Django
    would redirect to ``?e=1``, an unfiltered view). A sort by a column other than the date is
    cut into pages by ``logs.sorting``; the order stays total, so paging never skips or repeats
    an event.
    """

    applied_filters: AppliedFilters
    page_problem: str = ""

    def __init__(self, request, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        # The API's ``search`` parameter is the search box's text (see SearchParameter).
        if not self.query and request.GET.get("search"):
            self.query = request.GET["search"]

    def get_query_string(self, new_params=None, remove=None):
        """Django's, except that ``remove`` names parameters exactly: Django removes every
        parameter whose name starts with a removed one (removing ``target`` removed
        ``target_type``, removing ``p`` removed ``period``)."""
        removed = set(remove or ())
        params = {name: value for name, value in self.filter_params.items() if name not in removed}
        for name, value in (new_params or {}).items():
            if value is None:
                params.pop(name, None)
            else:
                params[name] = value
        return f"?{urlencode(sorted(params.items()), doseq=True)}"

    # -- sorting --------------------------------------------------------------------------
    def column_sort_key(self) -> str | None:
        """The ``ordering`` key (logs.filters.ORDERINGS) of the column sort ``o``, if any: its
        first sortable column; the date breaks ties within a column, whatever ``o`` says."""
        if not self.params.get(ORDER_VAR):
            return None
        for part in self.params[ORDER_VAR].split("."):
            _, descending, index = part.rpartition("-")
            try:
                name = self.list_display[int(index)]
            except (ValueError, IndexError):
                continue
            key = COLUMN_SORTS.get(name)
            if key:
                return f"-{key}" if descending == "-" else key
        return None

    def sort_key(self) -> str:
        """The ordering of this page: the column sort, else the ``ordering`` parameter."""
        key = self.column_sort_key() or self.params.get("ordering") or "-date"
        return key if key in ORDERINGS else "-date"

    def get_ordering(self, request, queryset):
        return list(ORDERINGS[self.sort_key()].fields)

    def get_ordering_field_columns(self):
        """The column the page is sorted by, for the header's arrow (only the first: the date
        is the tie-breaker of every sort)."""
        key = self.sort_key()
        wanted = key.lstrip("-")
        for index, name in enumerate(self.list_display):
            if COLUMN_SORTS.get(name) == wanted:
                return {index: "desc" if key.startswith("-") else "asc"}
        return {}

    # -- filtering ------------------------------------------------------------------------
    def get_queryset(self, request, exclude_parameters=None):
        # The rows show the targets and nothing else of them: loaded as plain lists.
        queryset = super().get_queryset(request, exclude_parameters)
        queryset = queryset.with_listed_targets()
        self.applied_filters = applied_filters(request, self.column_sort_key())
        self.clear_all_filters_qs = "?"
        if not self.applied_filters.valid:
            return queryset.none()
        return self.applied_filters.selected(queryset)

    def get_filters_params(self, params=None):
        """Only the FilterSet's parameters reach the sidebar filters; any other name is
        reported by AppliedFilters instead of being read as a database lookup."""
        return {
            name: values
            for name, values in super().get_filters_params(params).items()
            if name in FILTER_NAMES
        }

    # -- the page -------------------------------------------------------------------------
    def get_results(self, request):
        """Django's, with the page cut by the sort, and a page number past the last page
        reported (Django redirects to an unfiltered view)."""
        paginator = self.model_admin.get_paginator(request, self.queryset, self.list_per_page)
        if self.applied_filters.valid:
            paginator.column_sort = ColumnSort.for_ordering(self.sort_key())
        self.result_count = paginator.count
        self.multi_page = self.result_count > self.list_per_page
        try:
            self.result_list = paginator.page(self.page_num).object_list
        except InvalidPage:
            self.page_problem = (
                f"There is no page {self.page_num} in this view: it has "
                f"{paginator.num_pages} page{'s' if paginator.num_pages != 1 else ''}."
            )
            self.result_list = []
            self.multi_page = False  # no page links around a page that does not exist
        self.show_full_result_count = False
        self.show_admin_actions = self.filters_valid
        self.full_result_count = None
        self.can_show_all = False
        self.paginator = paginator

    @property
    def filters_valid(self) -> bool:
        return self.applied_filters.valid and not self.page_problem

    @cached_property
    def empty_view(self):
        """For a valid view without events: its filters and the nearest values that show
        events (logs.admin.empty_view)."""
        if not self.filters_valid or self.result_count:
            return None
        return empty_view.explain(self)

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
        """The Download link's parameters: exactly the FilterSet's parameters of this view."""
        return self.applied_filters.query_string()


def applied_filters(request, ordering: str | None = None) -> AppliedFilters:
    """The changelist's filters, checked once per request, query and sort: Django asks for
    the actions several times a request, and the page's query reads the same filters (each
    check builds and validates a FilterSet). A copy of the request made for another list
    (the detail page's Previous and Next) brings its own GET, and so its own checks."""
    cached = getattr(request, "_applied_filters", None)
    if cached is None or cached[0] is not request.GET:
        cached = (request.GET, {})
        request._applied_filters = cached
    if ordering not in cached[1]:
        cached[1][ordering] = AppliedFilters.from_changelist(request.GET, ordering)
    return cached[1][ordering]


# list_display name → the ``ordering`` key its column header sorts by.
COLUMN_SORTS = {f"column_{column.key}": column.sort for column in COLUMNS if column.sort}


# Download → the export format: CSV of the columns of the view, CSV in the Entra format, JSON.
DOWNLOADS = {"csv": "csv", "entra-csv": "csv", "json": "json"}


class ListOrderChangeList(AuditEventChangeList):
    """The changelist's query without its page: filters, search and order, for the detail
    page's Previous and Next (no count, no page of rows read)."""

    def get_results(self, request):
        self.result_count = self.full_result_count = 0
        self.result_list = []
        self.can_show_all = self.multi_page = False
        self.paginator = None


class _DiscardedMessages:
    """Messages of a changelist built only for its order: the detail page does not show them."""

    def add(self, level, message, extra_tags=""):
        pass


class AuditEventAdmin(RefusedLookupValues, ReadOnlyAdminMixin, admin.ModelAdmin):
    # Its filters are the FilterSet's (logs.filters), which refuses an unknown parameter or a
    # value it cannot read with the page's own 400 (logs.admin.applied_filters).
    checks_its_own_filters = True
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
        list_filters.NotesFilter,
        list_filters.DuplicatesFilter,
        list_filters.InitiatorFilter,
        list_filters.TargetFilter,
        list_filters.CorrelationFilter,
        list_filters.OrderingParameter,
        list_filters.PreciseParameters,
        list_filters.SearchParameter,
    ]
    search_fields = ["entra_id"]  # shows the search box; the FilterSet does the searching
    search_help_text = (
        "Part of an activity, initiator or target name or UPN, in any case; or a target's "
        "object id, a correlation id or an activity id."
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
        if getattr(request, "list_order_only", False):
            return ListOrderChangeList
        return AuditEventChangeList

    def chosen_column_keys(self, request) -> list[str]:
        """The reader's columns, read once per request: Django asks for the list's columns
        several times while it builds a page (a choice made is saved by its own request)."""
        chosen = getattr(request, "_chosen_column_keys", None)
        if chosen is None:
            preference = preference_of(request)
            keys = known_column_keys(preference.columns) if preference else []
            chosen = request._chosen_column_keys = tuple(keys or DEFAULT_COLUMN_KEYS)
        return list(chosen)

    def get_list_display(self, request):
        return [f"column_{key}" for key in self.chosen_column_keys(request)]

    def get_list_display_links(self, request, list_display):
        return list_display[:1]

    def get_search_results(self, request, queryset, search_term):
        # The search box's text is the FilterSet's ``search``, applied with the other filters
        # by AuditEventChangeList.
        return queryset, False

    def get_actions(self, request):
        """No export action while the changelist's filters are not valid: the page shows no
        events, and an action must not export any others."""
        if not applied_filters(request).valid:
            return {}
        return super().get_actions(request)

    @method_decorator(read_only_view)
    def changelist_view(self, request, extra_context=None):
        # A date range typed in the reader's time zone lands in the URL as UTC.
        converted = local_dates_redirect(request)
        if converted is not None:
            return converted
        chosen = self.chosen_column_keys(request)
        zone = display_zone(request)
        extra_context = {
            **(extra_context or {}),
            "column_choices": [
                {"key": c.key, "header": c.header, "chosen": c.key in chosen} for c in COLUMNS
            ],
            "columns_url": reverse("admin:logs_auditevent_columns"),
            "time_zone_url": reverse("admin:logs_auditevent_time_zone"),
            "display_time_zone": zone.key if zone else "",
            "has_export_permission": self.has_export_permission(request),
            "view_column_count": len(chosen),
            "entra_column_count": len(PORTAL_HEADER),
        }
        return super().changelist_view(request, extra_context)

    # -- download -------------------------------------------------------------------------
    def export_view(self, request, format):
        """The current filtered view as a file. Its URL holds exactly the FilterSet's
        parameters (AuditEventChangeList.export_query_string); anything else, or a value the
        FilterSet refuses, is refused with a 400 naming it: nothing is exported."""
        if format not in DOWNLOADS:
            raise Http404("Downloads are CSV (the view's columns or the Entra format) or JSON.")
        if not self.has_view_permission(request):
            raise PermissionDenied
        if not self.has_export_permission(request):
            return refusal_response(
                request, self, permission=EXPORT_PERMISSION, refused="Downloading events"
            )
        applied = AppliedFilters.from_export(request.GET)
        if not applied.valid:
            return export_refused(self, request, applied)
        events = applied.selected(AuditEvent.objects.all())
        return self._export(
            request,
            events,
            DOWNLOADS[format],
            via="admin download",
            filters=applied,
            entra=format == "entra-csv",
        )

    @admin.action(description="Export selected as CSV", permissions=["export"])
    def export_selected_csv(self, request, queryset):
        return self._export_selected(request, queryset, "csv")

    @admin.action(description="Export selected as JSON", permissions=["export"])
    def export_selected_json(self, request, queryset):
        return self._export_selected(request, queryset, "json")

    def _export_selected(self, request, queryset, format):
        changelist = self.get_changelist_instance(request)
        return self._export(
            request,
            queryset,
            format,
            via="admin action",
            filters=changelist.applied_filters,
            selection={
                "selected": len(request.POST.getlist(ACTION_CHECKBOX_NAME)),
                "select_across": request.POST.get("select_across") == "1",
            },
        )

    def _export(self, request, events, format, *, via, filters, selection=None, entra=False):
        """``entra``: a CSV in the Entra admin center's layout (all 86 columns) rather than
        the columns the user chose for the changelist."""
        chosen_columns = format == "csv" and not entra
        export = Export(
            events,
            format,
            columns=self.chosen_column_keys(request) if chosen_columns else None,
            limit=WEB_EXPORT_LIMIT,
            column_sort=ColumnSort.for_ordering(filters.data.get("ordering")),
        )
        recorded = {**filters.as_record(), **(selection or {})}
        return export_response(request, export, filters=recorded, via=via)

    # -- column chooser -------------------------------------------------------------------
    def get_urls(self):
        columns_view = self.admin_site.admin_view(require_POST(self.save_columns_view))
        time_zone_view = self.admin_site.admin_view(require_POST(self.save_time_zone_view))
        # The pages that only read (and the changelist and detail, decorated above) may be
        # answered by the read replica: see logs.routing.
        export_view = self.admin_site.admin_view(read_only_view(self.export_view))
        insights = self.admin_site.admin_view(read_only_view(partial(insights_view, self)))
        retention = self.admin_site.admin_view(partial(retention_policy_view, self))
        return [
            path("insights/", insights, name="logs_auditevent_insights"),
            path("retention/", retention, name="logs_auditevent_retention"),
            path("columns/", columns_view, name="logs_auditevent_columns"),
            path("time-zone/", time_zone_view, name="logs_auditevent_time_zone"),
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
        return self._back_to_the_portal(request)

    def save_time_zone_view(self, request):
        """The zone whose local time pages show beside UTC (empty: UTC only)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        name = request.POST.get("time_zone", "")
        if name and name not in choosable_time_zones():
            return HttpResponseBadRequest("Unknown time zone: choose one from the list.")
        ColumnPreference.objects.update_or_create(user=request.user, defaults={"time_zone": name})
        return self._back_to_the_portal(request)

    def _back_to_the_portal(self, request):
        """To ``next`` if it is a page of the audit log on this site, else to the changelist."""
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
        pk = event_id_in(object_id)
        event = (
            None
            if pk is None
            else event_by_id(
                AuditEvent.objects.select_related(
                    "service",
                    "category",
                    "activity",
                    "initiator",
                    "import_batch",
                    "details_list",
                    "user_agent",
                ).prefetch_related("targets__modified_properties", "annotations__created_by"),
                pk,
            )
        )
        if event is None:
            raise Http404("No audit event with that id.")
        if not self.has_view_permission(request, event):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            **(extra_context or {}),
            "opts": self.opts,
            "title": f"{event.activity.name} — {utc_text(event.activity_datetime)}",
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
            "annotations": [_annotation_display(note) for note in event.annotations.all()],
            "notes": event.notes,
            **self._list_navigation(request, event),
            "original_pretty": _pretty_json(event.original),
            "links": _related_links(event),
        }
        return TemplateResponse(request, "admin/logs/auditevent/detail.html", context)

    def _list_navigation(self, request, event) -> dict:
        """The way back to the list the reader came from, with its filters, search, sort and
        page (Django's ``_changelist_filters``), and the events before and after this one in
        that list."""
        preserved_filters = self.get_preserved_filters(request)
        list_request = copy.copy(request)
        list_request.GET = QueryDict(request.GET.get("_changelist_filters", ""))
        list_request.list_order_only = True
        list_request._messages = _DiscardedMessages()
        try:
            # Built without its page (ListOrderChangeList), the list is only its query.
            changelist = self.get_changelist_instance(list_request)
        except (IncorrectLookupParameters, ValidationError):
            previous_id = next_id = None  # the list's filters are not valid: no list to walk
        else:
            column_sort = ColumnSort.for_ordering(changelist.sort_key())
            if column_sort is None:
                previous_id, next_id = neighbours(changelist.queryset, event)
            else:
                previous_id, next_id = _column_neighbours(changelist.queryset, column_sort, event)

        def detail_url(pk):
            if pk is None:
                return None
            url = reverse("admin:logs_auditevent_change", args=[pk])
            return f"{url}?{preserved_filters}" if preserved_filters else url

        return {
            "preserved_filters": preserved_filters,
            "previous_url": detail_url(previous_id),
            "next_url": detail_url(next_id),
        }


def _column_neighbours(events, column_sort, event) -> tuple[int | None, int | None]:
    """The ids before and after ``event`` in ``events`` sorted by a column (logs.sorting),
    found from the event's own key as the API's pages are, never by counting."""
    key = column_sort.key_of(event)
    following = column_sort.page_after(events, key, 1)
    preceding = column_sort.page_after(events, key, 1, backwards=True)
    return (
        preceding[0].pk if preceding else None,
        following[0].pk if following else None,
    )


def _annotation_display(note) -> dict:
    """The note under its kind, said once: a rule's text may begin with the kind already
    ("Informational: a Microsoft Substrate Management write-back ...")."""
    label = note.get_kind_display()
    text = note.text
    if text.lower().startswith(f"{label.lower()}:"):
        text = text[len(label) + 1 :].lstrip()
    return {"note": note, "label": label, "text": text}


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
        # By object id only: the target filter finds names by part ("Finance" would also
        # open "Finance EMEA"), ids whole.
        if target.object_id and target.object_id != ZERO_GUID:
            label = f"Other events on {column_target_label(target)}"
            links.append((label, {"target": target.object_id}))
    return [(label, f"{changelist}?{urlencode(query)}") for label, query in links]
