"""What an empty changelist says: which filters it applies (each with a link to the view
without it), and for a text filter the nearest known values that do show events.

An empty page is the moment a person wonders whether the filter was typed wrong or the events
are not there. The nearest values come from the lookups the text filters search (initiators'
and targets' names, activity names): those containing the typed text, or, when none do, a
word of it or a shorter beginning of it ("alexw" → "alex"), closest first. Each is offered only
if the view with it instead (every other filter kept) holds an event; at most
``MAX_CHECKS`` such views are tried, so an empty page stays cheap.
"""

from dataclasses import dataclass
from difflib import SequenceMatcher

from django.contrib.admin.views.main import SEARCH_VAR
from django.http import QueryDict

from logs.filters import AuditEventFilterSet, folded_text
from logs.models import Activity, Initiator, TargetName

MAX_SUGGESTIONS = 6
MAX_CHECKS = 12
MIN_VARIANT = 3
TEXT_FILTERS = ("initiator", "target", "search")


@dataclass
class Applied:
    label: str
    value: str
    without_url: str


@dataclass
class Suggestion:
    label: str
    value: str
    url: str


@dataclass
class EmptyView:
    applied: list[Applied]
    suggestions: list[Suggestion]


def explain(changelist) -> EmptyView:
    data = changelist.applied_filters.data
    applied = [
        Applied(_label(name), _shown(name, data.getlist(name)), _without(changelist, name))
        for name in data
        if name != "ordering"
    ]
    suggestions: list[Suggestion] = []
    checks = [0]
    for name in TEXT_FILTERS:
        if name in data and len(suggestions) < MAX_SUGGESTIONS:
            suggestions += _nearest(changelist, name, data[name], checks)
    return EmptyView(applied, suggestions[:MAX_SUGGESTIONS])


def _label(name: str) -> str:
    return str(AuditEventFilterSet.base_filters[name].label or name)


def _shown(name: str, values: list[str]) -> str:
    choices = dict(getattr(AuditEventFilterSet.base_filters[name], "extra", {}).get("choices", []))
    return ", ".join(str(choices.get(value, value)) for value in values)


def _url_name(name: str) -> str:
    return SEARCH_VAR if name == "search" else name


def _without(changelist, name: str) -> str:
    """The view without the filter ``name`` (the search is the box's ``q``, or ``search``)."""
    return changelist.get_query_string(remove=[_url_name(name), name])


def _with(changelist, name: str, value: str) -> str:
    """The view with ``value`` for the filter ``name`` instead."""
    return changelist.get_query_string({_url_name(name): value}, remove=[name])


def _nearest(changelist, name: str, text: str, checks: list[int]) -> list[Suggestion]:
    """Known values near ``text`` for the filter ``name`` that show events with the other
    filters of the view."""
    found: list[Suggestion] = []
    tried: set[str] = set()
    for variant in _variants(text):
        candidates = [value for value in _known_values(name, variant) if value not in tried]
        target = folded_text(text)
        candidates.sort(key=lambda value: -SequenceMatcher(None, target, value.casefold()).ratio())
        for value in candidates:
            if checks[0] >= MAX_CHECKS or len(found) >= MAX_SUGGESTIONS:
                return found
            tried.add(value)
            checks[0] += 1
            if _shows_events(changelist, name, value):
                found.append(Suggestion(_label(name), value, _with(changelist, name, value)))
        if found:
            return found
    return found


def _variants(text: str) -> list[str]:
    """The text, then its words (longest first), then shorter beginnings of it."""
    text = " ".join(text.split())
    words = sorted({word for word in text.split() if len(word) >= MIN_VARIANT}, key=len)[::-1]
    beginnings = [text[:end] for end in range(len(text) - 1, MIN_VARIANT - 1, -1)]
    return list(dict.fromkeys([text, *words, *beginnings]))


def _known_values(name: str, variant: str, limit: int = 20) -> list[str]:
    wanted = folded_text(variant)
    values: list[str] = []
    if name in ("initiator", "search"):
        initiators = Initiator.objects.filter(search_text__contains=wanted)[:limit]
        values += [initiator.name for initiator in initiators]
    if name in ("target", "search"):
        names = TargetName.objects.filter(folded__contains=wanted).order_by("name")
        values += list(names.values_list("name", flat=True)[:limit])
    if name == "search":
        values += [
            activity
            for activity in Activity.objects.order_by("name").values_list("name", flat=True)
            if wanted in activity.casefold()
        ][:limit]
    return list(dict.fromkeys(value for value in values if value))


def _shows_events(changelist, name: str, value: str) -> bool:
    data = QueryDict(mutable=True)
    for key, values in changelist.applied_filters.data.lists():
        if key != "ordering":
            data.setlist(key, values)
    data[name] = value
    filterset = AuditEventFilterSet(data=data, queryset=changelist.root_queryset)
    return filterset.is_valid() and filterset.qs.order_by().exists()
