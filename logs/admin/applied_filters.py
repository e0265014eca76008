"""The shared FilterSet's parameters as a portal request gives them, checked.

The changelist's URL holds the FilterSet's parameters under their own names, beside the page's
own: the search box's text as ``q``, a column sort as ``o``, the page number as ``p``. What
leaves the page in the FilterSet's terms (the Download link, the filters an access record
stores, the list of filters an empty view names) is built from ``AppliedFilters``: the
FilterSet's parameters, by name, and nothing else. Never from what is left of the URL after
removing some names: Django's ``ChangeList.get_query_string(remove=[...])`` removes every
parameter whose name *starts with* a removed one, so removing the page (``p``) removed the
date preset (``period``) too.

Values are checked as the API checks them (``logs.api.parameters``): a value the FilterSet
cannot read, or reads as "not given", is an error naming the parameter, and a view with an
error selects no events (never all of them).
"""

from dataclasses import dataclass, field

from django.contrib.admin.options import IS_FACETS_VAR, IS_POPUP_VAR, TO_FIELD_VAR
from django.contrib.admin.views.main import ALL_VAR, ERROR_FLAG, ORDER_VAR, PAGE_VAR, SEARCH_VAR
from django.http import QueryDict
from django.template.response import TemplateResponse
from django.urls import reverse

from logs.api.parameters import unapplied_values
from logs.filters import MULTI_VALUED_FILTERS, AuditEventFilterSet

FILTER_NAMES = tuple(AuditEventFilterSet.base_filters)
# The changelist page's own parameters: they select no events.
PAGE_PARAMETERS = frozenset(
    {
        PAGE_VAR,
        ERROR_FLAG,
        ALL_VAR,
        ORDER_VAR,
        IS_FACETS_VAR,
        IS_POPUP_VAR,
        TO_FIELD_VAR,
        "_changelist_filters",
    }
)


@dataclass
class AppliedFilters:
    """FilterSet parameter → its values (blank ones dropped), and the errors found in them.

    ``errors`` maps a parameter to its messages, worded by the FilterSet's form (as the API and
    Insights word them); a view with any error selects nothing.
    """

    data: QueryDict
    errors: dict[str, list[str]] = field(default_factory=dict)
    given: dict[str, list[str]] = field(default_factory=dict)
    # The FilterSet that checked ``data``: its cleaned form selects the events, so a request
    # builds and cleans the FilterSet (deep copies of every filter and form field) once.
    checked: AuditEventFilterSet | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_changelist(cls, query, ordering: str | None = None) -> "AppliedFilters":
        """The filters of a changelist URL: FilterSet names, the search box's ``q`` as
        ``search``, and ``ordering``, the key (``logs.filters.ORDERINGS``) of the sort the page
        resolved from its column headers, if any."""
        values = {name: query.getlist(name) for name in FILTER_NAMES if name in query}
        unknown = [
            name
            for name in query
            if name not in FILTER_NAMES and name not in PAGE_PARAMETERS and name != SEARCH_VAR
        ]
        if SEARCH_VAR in query:
            if "search" in values:
                unknown.append("search")  # the box and the parameter at once: which one?
            values["search"] = query.getlist(SEARCH_VAR)
        if ordering is not None:
            values["ordering"] = [ordering]
        return cls._checked(values, unknown)

    @classmethod
    def from_export(cls, query) -> "AppliedFilters":
        """The filters of a download URL: exactly the FilterSet's parameters; any other name is
        an error, so nothing the person did not choose (or meant otherwise) is ignored."""
        values = {name: query.getlist(name) for name in FILTER_NAMES if name in query}
        return cls._checked(values, [name for name in query if name not in FILTER_NAMES])

    @classmethod
    def _checked(cls, values: dict[str, list[str]], unknown: list[str]) -> "AppliedFilters":
        given = {name: list(entries) for name, entries in values.items()}
        errors: dict[str, list[str]] = {}
        for name in unknown:
            if name == "search":
                errors[name] = ["Give the search once: in the search box or as search=."]
            else:
                errors[name] = [f"Unknown parameter. Known: {', '.join(FILTER_NAMES)}."]
        data = QueryDict(mutable=True)
        for name, entries in values.items():
            kept = [value for value in entries if value.strip()]
            if len(kept) > 1 and name not in MULTI_VALUED_FILTERS:
                errors[name] = ["Give this parameter once."]
            elif any("\x00" in value for value in kept):
                errors[name] = ["Null characters are not allowed."]
            elif kept:
                data.setlist(name, kept)
        data._mutable = False
        applied = cls(data=data, errors=errors, given=given)
        if not errors:
            filterset = applied.filterset()
            if not filterset.is_valid():
                errors.update({name: list(messages) for name, messages in filterset.errors.items()})
            else:
                errors.update(unapplied_values(filterset, data))
            applied.checked = filterset
        return applied

    @property
    def valid(self) -> bool:
        return not self.errors

    def selected(self, queryset):
        """The events of ``queryset`` these (valid) filters select, by the FilterSet that checked
        them."""
        if not self.valid or self.checked is None:
            raise ValueError("Only valid filters select events.")
        return self.checked.filter_queryset(queryset.all())

    def filterset(self, queryset=None) -> AuditEventFilterSet:
        from logs.models import AuditEvent

        return AuditEventFilterSet(
            data=self.data, queryset=AuditEvent.objects.all() if queryset is None else queryset
        )

    def query_string(self) -> str:
        """``?name=value&...`` in the FilterSet's names, or ``""`` when there is no filter."""
        encoded = self.data.urlencode()
        return f"?{encoded}" if encoded else ""

    def as_record(self) -> dict:
        """For an access record: each parameter's value (a list for several values)."""
        return {
            name: values if name in MULTI_VALUED_FILTERS else values[0]
            for name, values in self.data.lists()
        }

    def problems(self) -> list[dict]:
        """What is wrong, for a person: each parameter's label, the value given, the messages."""
        return [
            {
                "name": name,
                "label": _label(name),
                "value": ", ".join(self.given.get(name, [])),
                "messages": messages,
            }
            for name, messages in self.errors.items()
        ]


def _label(name: str) -> str:
    filter_ = AuditEventFilterSet.base_filters.get(name)
    return str(filter_.label) if filter_ is not None and filter_.label else name


def export_refused(model_admin, request, applied: AppliedFilters) -> TemplateResponse:
    """The answer to a download whose filters are not valid: a 400 page naming each problem,
    with a link back to the view with the same parameters, to correct them."""
    given = QueryDict(mutable=True)
    for name, values in request.GET.lists():
        given.setlist(SEARCH_VAR if name == "search" else name, values)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": "Download refused: the filters are not valid",
        "problems": applied.problems(),
        "changelist_url": reverse("admin:logs_auditevent_changelist") + f"?{given.urlencode()}",
    }
    return TemplateResponse(
        request, "admin/logs/auditevent/export_refused.html", context, status=400
    )
