"""Admin sidebar filters for the shared AuditEventFilterSet's parameters.

Each filter consumes its query parameters (named as in the API) and shows them; the changelist
applies them all at once through the FilterSet (logs.admin.events.AuditEventChangeList), so the
admin and the API select the same rows for the same parameters, and a value the FilterSet
refuses is reported rather than dropped. Choices come from the lookup tables (or fixed
vocabularies), never from a scan of the event table.
"""

from django.contrib import admin

from logs.admin.times import date_input
from logs.filters import PERIODS, PRECISE_FILTERS, AuditEventFilterSet
from logs.models import Activity, AuditEvent, Category, Service

# Target types Entra writes (Graph targetResource.type) and operation types (operationType).
TARGET_TYPES = [
    "User",
    "Group",
    "Application",
    "ServicePrincipal",
    "Device",
    "Role",
    "Policy",
    "Directory",
    "Other",
]
OPERATION_TYPES = ["Add", "Update", "Delete", "Assign", "Unassign", "Other"]


class FilterSetListFilter(admin.ListFilter):
    """One or more FilterSet parameters shown as a sidebar filter."""

    parameter_names: tuple[str, ...] = ()
    template = "admin/logs/filters/links.html"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        for name in self.parameter_names:
            if name in params:
                self.used_parameters[name] = params.pop(name)[-1]

    def expected_parameters(self):
        return list(self.parameter_names)

    def has_output(self):
        return True

    def value(self, name=None):
        return self.used_parameters.get(name or self.parameter_names[0])

    def other_parameters(self) -> list[tuple[str, str]]:
        """The request's other parameters (filters, search, sort), for a form to carry along;
        the page number is dropped, as a new filter starts on page one."""
        own = {*self.parameter_names, "p", "e"}
        return [
            (key, value)
            for key, values in self.request.GET.lists()
            if key not in own
            for value in values
        ]

    def queryset(self, request, queryset):
        # Applied by the changelist with every other parameter (see the module's docstring).
        return queryset


class ChoicesFilter(FilterSetListFilter):
    """A filter with a known set of values, shown as links or, when long, a drop-down."""

    # Above this many choices the sidebar shows a drop-down instead of links.
    max_links = 12

    def lookups(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def choices(self, changelist):
        name = self.parameter_names[0]
        current = self.value()
        yield {
            "selected": current is None,
            "query_string": changelist.get_query_string(remove=self.expected_parameters()),
            "display": "All",
        }
        for value, label in self.lookups():
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({name: value}),
                "display": label,
            }

    @property
    def template(self):
        if len(self.lookups()) > self.max_links:
            return "admin/logs/filters/select.html"
        return "admin/logs/filters/links.html"


class LookupTableFilter(ChoicesFilter):
    lookup_model = None

    def lookups(self):
        if not hasattr(self, "_lookups"):
            names = self.lookup_model.objects.order_by("name").values_list("name", flat=True)
            self._lookups = [(name, name) for name in names]
        return self._lookups


class ServiceFilter(LookupTableFilter):
    title = "service"
    parameter_names = ("service",)
    lookup_model = Service


class CategoryFilter(LookupTableFilter):
    title = "category"
    parameter_names = ("category",)
    lookup_model = Category


class ActivityFilter(LookupTableFilter):
    """Takes several names (``?activity=A&activity=B``, as the Insights page links); the
    drop-down shows one, and choosing there replaces them all."""

    title = "activity"
    parameter_names = ("activity",)
    lookup_model = Activity

    def __init__(self, request, params, model, model_admin):
        names = params.get("activity")
        super().__init__(request, params, model, model_admin)
        if names is not None:
            self.used_parameters["activity"] = [name for name in names if name != ""]

    def value(self, name=None):
        names = self.used_parameters.get("activity") or []
        return names[0] if len(names) == 1 else None

    def choices(self, changelist):
        names = self.used_parameters.get("activity") or []
        for choice in super().choices(changelist):
            if len(names) > 1 and choice["display"] == "All":
                yield {**choice, "selected": False}
                yield {
                    "selected": True,
                    "query_string": changelist.get_query_string(),
                    "display": f"Any of {len(names)} activities",
                }
                continue
            yield choice


class StatusFilter(ChoicesFilter):
    title = "status"
    parameter_names = ("result",)

    def lookups(self):
        return list(AuditEvent.Result.choices)


class TargetTypeFilter(ChoicesFilter):
    title = "target type"
    parameter_names = ("target_type",)

    def lookups(self):
        return [(value, value) for value in TARGET_TYPES]


class OperationTypeFilter(ChoicesFilter):
    title = "operation type"
    parameter_names = ("operation_type",)

    def lookups(self):
        return [(value, value) for value in OPERATION_TYPES]


class InformationalFilter(ChoicesFilter):
    title = "informational"
    parameter_names = ("informational",)

    def lookups(self):
        return [("false", "Hide informational"), ("true", "Only informational")]


class NotesFilter(ChoicesFilter):
    title = "normalisation notes"
    parameter_names = ("notes",)

    def lookups(self):
        return [("true", "Stored with notes"), ("false", "Without notes")]


class DuplicatesFilter(ChoicesFilter):
    title = "duplicates"
    parameter_names = ("duplicates",)

    def lookups(self):
        return [("show", "Show duplicates too"), ("only", "Only duplicates")]


class TextFilter(FilterSetListFilter):
    """A free-text parameter (too many values to list): a small form in the sidebar."""

    template = "admin/logs/filters/text.html"
    placeholder = ""

    def choices(self, changelist):
        # The template renders the form; these are the other parameters it must carry along.
        name = self.parameter_names[0]
        yield {
            "name": name,
            "value": self.value() or "",
            "placeholder": self.placeholder,
            "hidden": self.other_parameters(),
            "clear_query_string": changelist.get_query_string(remove=[name]),
        }


class InitiatorFilter(TextFilter):
    title = "initiated by"
    parameter_names = ("initiator",)
    placeholder = "part of a UPN, name or app"


class TargetFilter(TextFilter):
    title = "target"
    parameter_names = ("target",)
    placeholder = "part of a name or UPN, or an id"


class CorrelationFilter(TextFilter):
    title = "correlation id"
    parameter_names = ("correlation_id",)
    placeholder = "correlation id"


class OrderingParameter(FilterSetListFilter):
    """Accepts the API's ``ordering`` parameter in portal URLs (the column headers sort too);
    AuditEventChangeList applies it, as the changelist orders after filtering."""

    title = "ordering"
    parameter_names = ("ordering",)

    def has_output(self):
        return False


class PreciseParameters(FilterSetListFilter):
    """Accepts the FilterSet's precise parameters (the Graph endpoint's filters: ``after``,
    ``target_id``, ``initiator_upn``, ...) in portal URLs, so that a query string means the
    same in the portal as in the API. The sidebar offers none of them; it lists those applied,
    each with a link that removes it."""

    title = "precise filter"
    parameter_names = PRECISE_FILTERS
    template = "admin/logs/filters/applied.html"

    def choices(self, changelist):
        filters = AuditEventFilterSet.base_filters
        for name in self.parameter_names:
            value = self.value(name)
            if value:
                yield {
                    "display": f"{filters[name].label}: {value}",
                    "query_string": changelist.get_query_string(remove=[name]),
                }


class SearchParameter(FilterSetListFilter):
    """Accepts the API's ``search`` parameter in portal URLs; the search box (``q``) shows it
    and replaces it when submitted."""

    title = "search"
    parameter_names = ("search",)

    def has_output(self):
        return False


class DateRangeFilter(FilterSetListFilter):
    """Presets (last 24 hours, 7 days, 30 days) and a custom from/to range."""

    title = "date"
    parameter_names = ("period", "since", "until")
    template = "admin/logs/filters/date_range.html"

    def choices(self, changelist):
        remove = self.expected_parameters()
        current = self.value("period")
        custom = bool(self.value("since") or self.value("until"))
        presets = [
            {
                "selected": current is None and not custom,
                "query_string": changelist.get_query_string(remove=remove),
                "display": "Any time",
            }
        ]
        for key, (label, _) in PERIODS.items():
            presets.append(
                {
                    "selected": current == key,
                    "query_string": changelist.get_query_string({"period": key}, remove=remove),
                    "display": label,
                }
            )
        yield {
            "presets": presets,
            "since": self.value("since") or "",
            "until": self.value("until") or "",
            # Typed and shown in the reader's display zone, if he chose one; the URL keeps UTC.
            "inputs": [
                ("From", date_input(self.request, "since", self.value("since"))),
                ("To", date_input(self.request, "until", self.value("until"))),
            ],
            "custom": custom,
            "hidden": self.other_parameters(),
        }
