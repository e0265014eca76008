"""The one definition of every event filter: the REST API, the admin sidebar and the export
command all select events through ``AuditEventFilterSet``, so a filter means the same thing
everywhere.

Parameters: ``since``, ``until``, ``period`` (the portal's presets), ``service``,
``category``, ``activity``, ``result``, ``operation_type``, ``initiator``, ``target``,
``target_type``, ``correlation_id``, ``informational``, ``notes``, ``duplicates``, ``search``
and ``ordering``. Events marked as duplicates of an event from another format (a portal CSV
row and the same event from Graph, say; see logs.ingest.fingerprints) are left out unless
``duplicates`` asks for them, so every list, count, answer and export counts an event once.
Filters on names resolve against the small lookup tables first, so a filter never scans the
event table for its choices. The text filters (initiator, target, search) match a part of a
name in any case, against the lookups' folded names (``Initiator.search_text``,
``TargetName``; see migration 0018 for their indexes), then reach events through the indexes
on ids and names.
"""

from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import (
    BigIntegerField,
    BooleanField,
    CharField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    Value,
)
from django.db.models.sql.where import AND, WhereNode
from django.utils import timezone

from logs.models import (
    Activity,
    Annotation,
    AuditEvent,
    Category,
    Initiator,
    Service,
    Target,
    TargetName,
)
from logs.models.lookups import folded
from logs.partitions import month_bounds, partitioned
from logs.utc_text import UTCDateTimeText

PERIODS = {
    "24h": ("Last 24 hours", timedelta(hours=24)),
    "7d": ("Last 7 days", timedelta(days=7)),
    "30d": ("Last 30 days", timedelta(days=30)),
}


class Ordering(NamedTuple):
    """One value of the ``ordering`` parameter.

    ``fields`` is the order of the queryset, date then id. A sort by a column (``column``, a key
    of ``logs.sorting.COLUMNS``) orders by that column first, then by ``fields``: pages and
    exports are cut in that order by ``logs.sorting``, because a database sorting every
    matching event by a joined name for each page is what no index serves. The queryset itself
    stays in date order.
    """

    label: str
    fields: tuple[str, ...]
    column: str | None = None


NEWEST_FIRST = ("-activity_datetime", "-id")
ORDERINGS = {
    "-date": Ordering("Newest first", NEWEST_FIRST),
    "date": Ordering("Oldest first", ("activity_datetime", "id")),
}
# Each sortable column A to Z and Z to A; within a value, newest first.
for _key, _title in [
    ("service", "Service"),
    ("category", "Category"),
    ("activity", "Activity"),
    ("status", "Status"),
    ("initiator", "Initiated by"),
]:
    ORDERINGS[_key] = Ordering(f"{_title} A to Z, then newest first", NEWEST_FIRST, _key)
    ORDERINGS[f"-{_key}"] = Ordering(f"{_title} Z to A, then newest first", NEWEST_FIRST, _key)
del _key, _title
MAX_TEXT_FILTER_LENGTH = 1024


class UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 date-time, moved to UTC (a value without an offset is UTC already).

    Python reads offsets up to ±23:59, PostgreSQL refuses any beyond ±15:59, so a value such
    as ``+16:06`` is compared in UTC; one that has no UTC equivalent (year 1 with a positive
    offset) is an error, never a server error.
    """

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise ValidationError(
                "Out of range: the date-time has no UTC equivalent.", code="invalid"
            ) from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


def folded_text(value: str) -> str:
    """Typed text as the folded name columns hold it; a line break (they separate an
    initiator's names) is a space, so that text never matches across two names."""
    return folded(" ".join(value.split("\n")).strip())


def _ids(value: str) -> list[str]:
    """An id as typed and in lower case (Entra writes its GUIDs in lower case)."""
    text = value.strip()
    return list(dict.fromkeys([text, text.lower()]))


def initiators_matching(value: str):
    """Initiators one of whose names (UPN, display name, application or service principal
    name) contains ``value`` in any case, or one of whose ids (object, app or service principal
    id) is ``value``."""
    ids = _ids(value)
    return Initiator.objects.filter(
        Q(search_text__contains=folded_text(value))
        | Q(user_object_id__in=ids)
        | Q(app_id__in=ids)
        | Q(service_principal_id__in=ids)
    )


# Up to this many target names containing a text are looked up by name in the targets' own
# indexes; more, and the names stay a subquery.
MAX_NAME_LIST = 1_000


def target_names_containing(value: str):
    """The stored target names (display names and UPNs) containing ``value`` in any case: a
    list when there are few, else a subquery."""
    names = TargetName.objects.filter(folded__contains=folded_text(value)).values_list(
        "name", flat=True
    )
    listed = list(names.order_by()[: MAX_NAME_LIST + 1])
    return listed if len(listed) <= MAX_NAME_LIST else names


def many_names(names) -> bool:
    """Whether ``names`` (``target_names_containing``'s answer) are more than MAX_ID_LIST.

    The text filter walks the events when more than MAX_ID_LIST targets match. Counting the
    targets that far gathers every matching name twice before the first target is read (on
    SQLite the costliest of the page's queries); the names are counted in their own table
    alone. Each name was stored for a target, so that many names is a part of many
    names (a domain), whose events a walk meets early. Names whose targets retention purged
    are still counted: they can only lead to a walk where fewer events match, which finds the
    same events, more slowly.
    """
    return not isinstance(names, list) and names.order_by()[MAX_ID_LIST:][:1].exists()


def targets_matching(value: str, *, names=None):
    """Targets whose display name or UPN contains ``value`` in any case, or whose object id is
    ``value``: the names are found in the small TargetName table first (or given, as
    ``target_names_containing(value)`` returned them), then their targets through the
    targets' name indexes."""
    names = target_names_containing(value) if names is None else names
    return Target.objects.filter(
        Q(display_name__in=names) | Q(user_principal_name__in=names) | Q(object_id__in=_ids(value))
    )


def targets_matching_each(value: str, names, *, few_checked: bool = False):
    """``targets_matching(value, names=names)`` written for a walk over events (a correlated
    EXISTS).

    When the names are many (a subquery), SQLite would build a temporary set of every
    matching name, twice, before checking the first event; here each target's two names are
    looked up in the name table by its unique index instead. A few names (a list) keep the
    ``IN`` form. PostgreSQL hashes the names, twice per query (display names and UPNs), before
    checking the first target: that pays when every walked event's targets are checked, as in
    the target filter's count. When few targets are checked (``few_checked``: the search box
    checks them only for events that no initiator or activity matched), building the sets
    costs more than looking the few targets' names up, in the count and again in the page.
    """
    targets = targets_matching(value, names=names)
    if isinstance(names, list):
        return targets
    if connections[targets.db].vendor != "sqlite" and not few_checked:
        return targets
    named = TargetName.objects.filter(
        name__in=[OuterRef("display_name"), OuterRef("user_principal_name")],
        folded__contains=folded_text(value),
    )
    return Target.objects.filter(Q(Exists(named)) | Q(object_id__in=_ids(value)))


def _events_with_any(value: str, names) -> Q:
    """The condition "one of the event's targets matches ``value``" for the search box's walk
    over events: each event's own targets are checked (``targets_matching_each``), after the
    cheaper conditions on the event's own columns, so few of them. Gathering the matching
    targets' events first cost a temporary set of every match on SQLite and, on PostgreSQL,
    when they were too many to hash, a scan of all of them for every event walked."""
    targets = targets_matching_each(value, names, few_checked=True)
    return Q(Exists(targets.filter(event=OuterRef("pk"))))


def activities_containing(value: str) -> list[int]:
    """Ids of the activities whose name contains ``value`` in any case (a small table, read
    whole and folded here, as the name columns are)."""
    text = folded_text(value)
    return [pk for pk, name in Activity.objects.values_list("pk", "name") if text in folded(name)]


# Up to this many matches a name filter or a search becomes a list of ids, else it stays a
# subquery (or, for a search, a walk in date order). Above the changelist's exact-count limit
# (10,000), so that a walk only happens when matches are dense enough to be met early; chosen
# so that both a busy actor's filter and a broad search stay within the changelist's target
# (benchmark metric ``browse``, rows "changelist search" and "changelist broad search").
MAX_ID_LIST = 20_000


def ids_or_subquery(queryset, field: str):
    """``field`` of the rows of ``queryset``, as a literal list when there are few.

    On PostgreSQL a list of ids can be looked up in an index (several ORed together, too),
    where a subquery becomes a hashed set checked against every event in date order: fast when
    matches are plenty, a scan of the whole table when they are few. Name lookups resolve
    against small tables (or an indexed column of targets), so reading the ids first is cheap.
    SQLite's planner turns ORed id lists into a union of index lookups sorted afterwards, which
    is slow when matches are plenty, so there the subquery stays (benchmark metric ``browse``).
    """
    if connections[queryset.db].vendor != "postgresql":
        return queryset.values(field)
    ids = list(queryset.order_by().values_list(field, flat=True)[: MAX_ID_LIST + 1])
    if len(ids) > MAX_ID_LIST:
        return queryset.values(field)
    return ids


class InIds(Func):
    """``column IN (ids)``; on PostgreSQL ``column = ANY(ids)`` with the ids as one parameter.

    Django passes each id of a list as a parameter of its own, which the driver quotes into
    the statement one by one: for the 20,000 ids a search may gather, that took longer than
    each of the changelist's three queries on them (count, estimate, page).
    """

    output_field = BooleanField()

    def __init__(self, column: str, ids):
        super().__init__(F(column))
        self.ids = [int(pk) for pk in ids]

    def as_sql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        if not self.ids:
            return "1 = 0", []
        placeholders = ", ".join(["%s"] * len(self.ids))
        return f"{column} IN ({placeholders})", [*params, *self.ids]

    def as_postgresql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        return f"{column} = ANY(%s::bigint[])", [*params, "{" + ",".join(map(str, self.ids)) + "}"]


class InIdsUnestimated(InIds):
    """``column IN (ids)`` whose ids PostgreSQL's planner does not weigh one by one:
    ``column = ANY((SELECT ids))``, the list the result of an InitPlan.

    On month partitions the planner estimates a literal list against every partition, id by id:
    500 initiators took longer to plan against 88 partitions than the query took to run. Read
    at run time, the list is estimated as a few rows per partition, which steers the plan to
    the column's index; it suits queries that stop after a bounded number of rows (the column
    sorts' batches, logs.sorting), where that index is the right plan anyway."""

    def as_postgresql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        ids = "{" + ",".join(map(str, self.ids)) + "}"
        return f"{column} = ANY(CAST((SELECT %s::bigint[]) AS bigint[]))", [*params, ids]


def in_ids(column: str, ids) -> Q | InIds:
    """A condition for ``filter()``: ``column`` in ``ids`` (a list, or a subquery).

    One id is a plain equality. PostgreSQL reads ``column = ANY(ids)`` from an index in the
    index's order only from version 17 on: before that, a filter on one initiator, written as
    a list of one, walked the whole listing in date order and dropped the other initiators'
    events, instead of reading that initiator's events from its (initiator, date) index."""
    if isinstance(ids, list) and len(ids) == 1:
        return Q(**{column: ids[0]})
    if isinstance(ids, list):
        return InIds(column, ids)
    return Q(**{f"{column}__in": ids})


def event_keys_or_subquery(rows, id_field: str, date_field: str):
    """The events ``rows`` name, as ``{event id: its activity date}`` when there are few
    (``date_field`` is the event's own date, or a target's copy of it), else the subquery of
    their ids. The dates are read only where the event table is in month partitions, to read
    it in the matching months only (``InEvents``); elsewhere they are None. SQLite keeps the
    subquery (see ``ids_or_subquery``).
    """
    if connections[rows.db].vendor != "postgresql":
        return rows.values(id_field)
    dated = partitioned(connections[rows.db])
    keys = rows.order_by().values_list(*event_key(id_field, date_field, dated))
    listed = list(keys[: MAX_ID_LIST + 1])
    if len(listed) > MAX_ID_LIST:
        return rows.values(id_field)
    return gathered_keys(listed)


def event_key(id_field: str, date_field: str, dated: bool) -> tuple:
    """What ``values_list`` reads for an event: its id, and its date if ``dated`` (else None,
    which costs no read). The date is read as UTC text: turning the text of tens of thousands
    of dates into datetime objects took longer than the query that read them, and InEvents
    writes them back as text."""
    if not dated:
        return (id_field, Value(None, output_field=CharField()))
    return (id_field, UTCDateTimeText(date_field))


# An event's id and activity date, read from an event and from a target (its copy of the date).
EVENT_KEY = ("pk", "activity_datetime")
TARGET_EVENT_KEY = ("event_id", "event_datetime")


def gathered_keys(pairs, into: dict | None = None) -> dict:
    """``{event id: activity date as UTC text}`` from (id, date) pairs (``event_key``), added
    to ``into``; where one source lacks the date another has (a target's copy may be null), the
    known date wins."""
    gathered = {} if into is None else into
    for pk, moment in pairs:
        if gathered.get(pk) is None:
            gathered[pk] = moment
    return gathered


def in_events(keys, using: str) -> Q | Func:
    """A condition for ``filter()`` on events: those of ``keys`` (``event_keys_or_subquery``'s
    dict, or a subquery of ids)."""
    if not isinstance(keys, dict):
        return Q(pk__in=keys)
    if connections[using].vendor == "postgresql":
        return InEvents(keys)
    return InIds("pk", sorted(keys))


# How InEvents names many events' dates. PostgreSQL weighs a literal list against every
# partition it may read, item by item: the events times the months that hold them measure
# that planning (and the reading of every partition for every id). Up to DATES_LISTED_UP_TO
# events it lists each one's date; more, it names their months; and for events in more than
# PAIRED_OVER_MONTHS months, from PAIRED_FROM of that work whatever the count, it joins the
# (id, date) pairs (see InEvents). Within a year the first two forms stay, as measured at 90
# days, where a list's walk in date order stops after a page.
DATES_LISTED_UP_TO = 1_000
PAIRED_FROM = 50_000
PAIRED_OVER_MONTHS = 12


class InEvents(Func):
    """Events by id on PostgreSQL, with where their activity dates lie when they are known
    (where the event table is in month partitions, see ``event_keys_or_subquery``). One of:

    - ``id = ANY(ids) AND activity_datetime = ANY(dates)``, for a few events;
    - ``id = ANY(ids) AND (activity_datetime >= start AND activity_datetime < end OR ...)``
      over the runs of months that hold them, for many events in a few months;
    - ``(id, activity_datetime) IN (SELECT * FROM unnest(ids, dates))``, for many events in
      many months (more than a year's);
    - with no dates, ``id = ANY(ids)``.

    PostgreSQL plans a list of ids against every month's partition, as if each could hold
    every id: planning grows with the months kept times the ids, and so does the reading.
    Named dates confine both to the months holding the events: cheap while those months or
    the events are few. A second list as long as the first would cost more to plan than it
    saves, so many events name their months as ranges, and the listing walks those months in
    date order, each id checked against a hashed set. Over many months (a busy user's search
    over years of partitions: thousands of events in every month) that planning and that
    walk grew with the months again, and the pairs are joined instead: each event is looked
    up in its own month only (the partition is chosen as the query runs, pair by pair), for
    a plan of fixed cost over every partition. Joined, every named event is read before a
    page is cut from them, so the changelist and the API read their keys first, and load
    only the page's events (``logs.admin.pagination``, ``logs.api.pagination``). A date that
    is not known (a target's copy left null) leaves the months unnamed: every partition is
    read, as before. Targets' copies of the date are checked against their events by
    ``verify_audit_log``.
    """

    output_field = BooleanField()

    def __init__(self, keys: dict):
        super().__init__(F("pk"), F("activity_datetime"))
        ordered = sorted(keys)
        self.ids = "{" + ",".join(str(int(pk)) for pk in ordered) + "}"
        self.dates = self.months = self.paired_dates = None
        dates = set(keys.values())
        if None in dates:
            return
        months = month_runs(dates)
        holding = sum(_months_between(start, end) for start, end in months)
        if holding > PAIRED_OVER_MONTHS and len(keys) * holding >= PAIRED_FROM:
            # In the order of ``self.ids``: the n-th date is the n-th event's.
            self.paired_dates = _timestamps(keys[pk] for pk in ordered)
        elif len(keys) <= DATES_LISTED_UP_TO:
            self.dates = _timestamps(sorted(dates))
        else:
            self.months = months

    @property
    def paired(self) -> bool:
        return self.paired_dates is not None

    def as_sql(self, compiler, connection, **extra):
        raise NotImplementedError("written for PostgreSQL (see in_events)")

    def as_postgresql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        moment, moment_params = compiler.compile(self.source_expressions[1])
        if self.paired_dates is not None:
            return (
                f"(({column}, {moment}) IN "
                "(SELECT * FROM unnest(%s::bigint[], %s::timestamptz[])))",
                [*params, *moment_params, self.ids, self.paired_dates],
            )
        condition, params = f"{column} = ANY(%s::bigint[])", [*params, self.ids]
        if self.dates is not None:
            return (
                f"({condition} AND {moment} = ANY(%s::timestamptz[]))",
                [*params, *moment_params, self.dates],
            )
        if self.months is None:
            return condition, params
        ranges = " OR ".join([f"({moment} >= %s AND {moment} < %s)"] * len(self.months))
        bounds = [
            value
            for start, end in self.months
            for value in (*moment_params, start, *moment_params, end)
        ]
        return f"({condition} AND ({ranges}))", [*params, *bounds]


def joins_paired_events(where) -> bool:
    """Whether a query selects only events it names as (id, date) pairs (``InEvents``): a
    paired condition ANDed with the others, at any depth of ANDs. Negated or ORed, it does not
    bound the list, which may then hold any number of events. ``filter()`` keeps a condition
    expression as the left side of an ``exact``."""
    if where.negated or where.connector != AND:
        return False
    for child in where.children:
        for node in (child, getattr(child, "lhs", None)):
            if isinstance(node, InEvents) and node.paired:
                return True
        if isinstance(child, WhereNode) and joins_paired_events(child):
            return True
    return False


def _timestamps(texts) -> str:
    """An array literal of UTC dates (``UTCDateTimeText``'s text)."""
    return "{" + ",".join(f'"{text}+00"' for text in texts) + "}"


def _months_between(start: datetime, end: datetime) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def month_runs(dates) -> list[tuple[datetime, datetime]]:
    """The runs of consecutive UTC months holding ``dates`` (UTC text, ``UTCDateTimeText``),
    as [start, end) ranges."""
    runs: list[list] = []
    for month in sorted({date(int(text[:4]), int(text[5:7]), 1) for text in dates}):
        start, end = month_bounds(month)
        if runs and runs[-1][1] == start:
            runs[-1][1] = end
        else:
            runs.append([start, end])
    return [(start, end) for start, end in runs]


class Unindexed(ExpressionWrapper):
    """``column + 0``: the same value, which no index serves. In a condition ORed with others
    it keeps SQLite from gathering every match through the indexes and sorting them, and has
    it walk the events in date order instead (stopping after a page)."""

    def __init__(self, column: str):
        super().__init__(F(column) + 0, output_field=BigIntegerField())


def informational_annotations():
    return Annotation.objects.filter(kind=Annotation.Kind.INFORMATIONAL, event=OuterRef("pk"))


def without_duplicates(queryset, path: str = ""):
    """``queryset`` (events, or what reaches them by ``path``: ``"event__"``) without the
    events marked as duplicates of an event from another format. Nothing to leave out (the
    usual case) costs one index lookup and no condition on the query."""
    duplicates = Annotation.objects.filter(kind=Annotation.Kind.DUPLICATE)
    if not duplicates.exists():
        return queryset
    return queryset.exclude(
        **{f"{path}pk__in" if path else "pk__in": duplicates.values("event_id")}
    )


DUPLICATES_CHOICES = [
    ("hide", "Hide duplicates (the default)"),
    ("show", "Show duplicates too"),
    ("only", "Only duplicates"),
]


class NamesWidget(forms.SelectMultiple):
    """Reads every value from a query string, and a single string from a plain dict (the export
    command's and the admin sidebar's data), so one name needs no list around it."""

    def value_from_datadict(self, data, files, name):
        if hasattr(data, "getlist"):
            return data.getlist(name)
        value = data.get(name)
        return [value] if isinstance(value, str) else value


# Filters that take several values; every other parameter is given once.
MULTI_VALUED_FILTERS = frozenset({"activity"})


class AuditEventFilterForm(forms.Form):
    """Checks that need two parameters at once."""

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("since", "Must not be later than until.")
        return cleaned


class AuditEventFilterSet(django_filters.FilterSet):
    since = UtcIsoDateTimeFilter(
        field_name="activity_datetime",
        lookup_expr="gte",
        label="Since",
        help_text="Events at or after this ISO 8601 date-time (UTC if no offset).",
    )
    until = UtcIsoDateTimeFilter(
        field_name="activity_datetime",
        lookup_expr="lte",
        label="Until",
        help_text="Events at or before this ISO 8601 date-time (UTC if no offset).",
    )
    period = django_filters.ChoiceFilter(
        choices=[(key, label) for key, (label, _) in PERIODS.items()],
        method="filter_period",
        label="Period",
        help_text="A preset date range ending now: 24h, 7d or 30d.",
    )
    service = django_filters.ModelChoiceFilter(
        queryset=Service.objects.all(), to_field_name="name", label="Service"
    )
    category = django_filters.ModelChoiceFilter(
        queryset=Category.objects.all(), to_field_name="name", label="Category"
    )
    # Several values select any of them (``?activity=A&activity=B``), so that a compliance
    # answer spanning several activities links to exactly its events; one value works as before.
    activity = django_filters.ModelMultipleChoiceFilter(
        queryset=Activity.objects.all(),
        to_field_name="name",
        method="filter_activity",
        widget=NamesWidget,
        label="Activity",
        help_text="An activity name; give the parameter again to select any of several.",
    )
    result = django_filters.ChoiceFilter(
        choices=AuditEvent.Result.choices, label="Status", help_text="The activity's result."
    )
    operation_type = django_filters.CharFilter(
        max_length=64, label="Operation type", help_text="Add, Update, Delete, Assign, ..."
    )
    initiator = django_filters.CharFilter(
        method="filter_initiator",
        max_length=MAX_TEXT_FILTER_LENGTH,
        label="Initiated by",
        help_text="Part of the initiator's UPN, display name or app name, in any case "
        "(alex.wilber, Sales EMEA); or its object or app id.",
    )
    target = django_filters.CharFilter(
        method="filter_target",
        max_length=MAX_TEXT_FILTER_LENGTH,
        label="Target",
        help_text="Part of a target's display name or UPN, in any case (sales emea); or its "
        "object id.",
    )
    target_type = django_filters.CharFilter(
        method="filter_target_type",
        max_length=64,
        label="Target type",
        help_text="User, Group, Application, ServicePrincipal, Role, Policy, Device, ...",
    )
    correlation_id = django_filters.CharFilter(max_length=64, label="Correlation id")
    # A choice, not a BooleanFilter: that one reads "yes" or "1" as "not given" and would
    # return unfiltered rows instead of an error.
    informational = django_filters.ChoiceFilter(
        choices=[("true", "Only informational"), ("false", "Hide informational")],
        method="filter_informational",
        label="Informational",
        help_text="true: only events annotated informational (e.g. Microsoft Substrate "
        "Management write-backs); false: only the others.",
    )
    notes = django_filters.ChoiceFilter(
        choices=[("true", "Stored with notes"), ("false", "Without notes")],
        method="filter_notes",
        label="Normalisation notes",
        help_text="true: only events stored with normalisation notes (values of the source "
        "record that did not fit and were stored as empty); false: only the others.",
    )
    duplicates = django_filters.ChoiceFilter(
        choices=DUPLICATES_CHOICES,
        method="filter_duplicates",
        label="Duplicates",
        help_text="Events imported again from a format without record ids (the portal CSV) "
        "and marked as the same event as one stored from another format: hide (the default), "
        "show (with the others) or only.",
    )
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=MAX_TEXT_FILTER_LENGTH,
        label="Search",
        help_text="Part of an activity name, an initiator's names or a target's display name or "
        "UPN, in any case; or a target's object id, a correlation id or an activity id.",
    )
    ordering = django_filters.ChoiceFilter(
        choices=[(key, ordering.label) for key, ordering in ORDERINGS.items()],
        method="filter_ordering",
        label="Ordering",
        help_text="-date (newest first, the default) or date; service, category, activity, "
        "status or initiator (A to Z; with a leading minus Z to A), then newest first.",
    )

    class Meta:
        model = AuditEvent
        fields = []
        form = AuditEventFilterForm

    def get_form_class(self):
        """The form class, built once per FilterSet class rather than once per request: its
        fields depend on nothing a request holds (the choice fields' querysets are read when
        a form validates), and every form deep-copies the fields it is built from, as Django
        forms do their declared fields."""
        form_class = type(self).__dict__.get("_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            type(self)._form_class = form_class
        return form_class

    def filter_period(self, queryset, name, value):
        return queryset.filter(activity_datetime__gte=timezone.now() - PERIODS[value][1])

    def filter_activity(self, queryset, name, value):
        ids = [activity.pk for activity in value]
        if not ids:
            return queryset
        # One id keeps the plain equality the (activity, date) index serves best.
        return (
            queryset.filter(activity=ids[0]) if len(ids) == 1 else queryset.filter(activity__in=ids)
        )

    def filter_initiator(self, queryset, name, value):
        return queryset.filter(
            in_ids("initiator", ids_or_subquery(initiators_matching(value), "pk"))
        )

    def filter_target(self, queryset, name, value):
        names = target_names_containing(value)
        targets = targets_matching(value, names=names)
        if many_names(names) or targets.order_by()[MAX_ID_LIST : MAX_ID_LIST + 1].exists():
            # Many (a part of many names, such as a domain): each event's own targets are
            # checked as the events are walked in the listing's order, which stops after a
            # page; gathering every match first read them all.
            walked = targets_matching_each(value, names)
            return queryset.filter(Exists(walked.filter(event=OuterRef("pk"))))
        keys = event_keys_or_subquery(targets, "event_id", "event_datetime")
        return queryset.filter(in_events(keys, queryset.db))

    def filter_target_type(self, queryset, name, value):
        return queryset.filter(Exists(Target.objects.filter(event=OuterRef("pk"), type=value)))

    def filter_informational(self, queryset, name, value):
        informational = Exists(informational_annotations())
        return queryset.filter(informational if value == "true" else ~informational)

    def filter_notes(self, queryset, name, value):
        without_notes = Q(normalisation_notes="")
        return (
            queryset.exclude(without_notes) if value == "true" else queryset.filter(without_notes)
        )

    def filter_duplicates(self, queryset, name, value):
        if value == "show":
            return queryset
        if value == "only":
            return queryset.filter(
                pk__in=Annotation.objects.filter(kind=Annotation.Kind.DUPLICATE).values("event_id")
            )
        return without_duplicates(queryset)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("duplicates"):
            # Not given: hidden, as "hide" does.
            queryset = without_duplicates(queryset)
        return queryset

    def filter_search(self, queryset, name, value):
        text = value.strip()
        if not text:
            return queryset
        activity_ids = activities_containing(text)
        initiators = Initiator.objects.filter(search_text__contains=folded_text(text))
        initiator_ids = list(initiators.values_list("pk", flat=True)[: MAX_NAME_LIST + 1])
        if len(initiator_ids) > MAX_NAME_LIST:
            # A part of many names (a domain): a subquery, where a literal list of tens of
            # thousands of ids cost more to build into each query than the query took.
            initiator_ids = initiators.values("pk")
        names = target_names_containing(text)
        targets = targets_matching(text, names=names)
        # Few matches: gather their ids through the indexes, then show those. Many: walk the
        # events newest first and keep the matching ones, which stops after a page.
        # In no order: only the set of ids matters, and ordering would read every match's row.
        dated = partitioned(connections[queryset.db])
        candidates = [
            query.order_by().values_list(*event_key(*fields, dated))
            for query, fields in [
                (AuditEvent.objects.filter(activity__in=activity_ids), EVENT_KEY),
                (AuditEvent.objects.filter(initiator__in=initiator_ids), EVENT_KEY),
                (targets, TARGET_EVENT_KEY),
                # One query for both exact ids (each has its index): on month partitions every
                # query is planned against every partition.
                (AuditEvent.objects.filter(Q(correlation_id=text) | Q(entra_id=text)), EVENT_KEY),
            ]
        ]
        walked = queryset.alias(
            activity_key=Unindexed("activity_id"),
            initiator_key=Unindexed("initiator_id"),
            event_key=Unindexed("id"),
        ).filter(
            Q(activity_key__in=activity_ids)
            | Q(initiator_key__in=initiator_ids)
            | _events_with_any(text, names)
            | Q(correlation_id=text)
            | Q(entra_id=text)
        )
        if many_names(names):
            # A part of many target names: walked, as the target filter is, without gathering
            # any kind of match first.
            return walked
        keys: dict = {}
        for candidate in candidates:
            gathered_keys(candidate[: MAX_ID_LIST + 1], into=keys)
            if len(keys) > MAX_ID_LIST:
                return walked
        return queryset.filter(in_events(keys, queryset.db))

    def filter_ordering(self, queryset, name, value):
        return queryset.order_by(*ORDERINGS[value].fields)

    # -- Precise filters, one for each $filter form of Microsoft Graph's directoryAudits -------
    # The Graph-compatible endpoint (logs/graph/) translates each form into exactly one of
    # these (or since, until, result, correlation_id), so a Graph query and the same filter
    # here select the same events. Names and UPNs compare without regard to case, as Graph's
    # directory data does (on SQLite, ASCII letters only: SQLite folds no other case); ids
    # compare exactly. An unknown name selects nothing, as in Graph, rather than being refused.
    after = UtcIsoDateTimeFilter(
        field_name="activity_datetime",
        lookup_expr="gt",
        label="After",
        help_text="Events strictly after this ISO 8601 date-time (UTC if no offset).",
    )
    before = UtcIsoDateTimeFilter(
        field_name="activity_datetime",
        lookup_expr="lt",
        label="Before",
        help_text="Events strictly before this ISO 8601 date-time (UTC if no offset).",
    )
    activity_id = django_filters.CharFilter(
        field_name="entra_id",
        max_length=256,
        label="Activity id",
        help_text="The Entra record id (exact).",
    )
    activity_name = django_filters.CharFilter(
        method="filter_activity_name",
        max_length=MAX_TEXT_FILTER_LENGTH,
        label="Activity name",
        help_text="The activity's name (whole, any case).",
    )
    activity_name_startswith = django_filters.CharFilter(
        method="filter_activity_name_startswith",
        max_length=MAX_TEXT_FILTER_LENGTH,
        label="Activity name starts with",
        help_text="The start of the activity's name (any case).",
    )
    service_name = django_filters.CharFilter(
        method="filter_service_name",
        max_length=MAX_TEXT_FILTER_LENGTH,
        label="Service name",
        help_text="The service that logged the event (whole name, any case).",
    )
    category_name = django_filters.CharFilter(
        method="filter_category_name",
        max_length=MAX_TEXT_FILTER_LENGTH,
        label="Category name",
        help_text="The audit category (whole name, any case).",
    )
    initiator_user_id = django_filters.CharFilter(
        method="filter_initiator_user_id",
        max_length=MAX_TEXT_FILTER_LENGTH,
        label="Initiating user's id",
        help_text="The object id of the user who initiated the event (exact).",
    )
    initiator_user_name = django_filters.CharFilter(
        method="filter_initiator_user_name",
        max_length=MAX_TEXT_FILTER_LENGTH,
        label="Initiating user's name",
        help_text="The display name of the user who initiated the event (whole, any case).",
    )
    initiator_upn = django_filters.CharFilter(
        method="filter_initiator_upn",
        max_length=MAX_TEXT_FILTER_LENGTH,
        label="Initiating user's UPN",
        help_text="The UPN of the user who initiated the event (whole, any case).",
    )
    initiator_upn_startswith = django_filters.CharFilter(
        method="filter_initiator_upn_startswith",
        max_length=MAX_TEXT_FILTER_LENGTH,
        label="Initiating user's UPN starts with",
        help_text="The start of the initiating user's UPN (any case).",
    )
    initiator_app_id = django_filters.CharFilter(
        method="filter_initiator_app_id",
        max_length=MAX_TEXT_FILTER_LENGTH,
        label="Initiating app's id",
        help_text="The app id of the application that initiated the event (exact).",
    )
    initiator_app_name = django_filters.CharFilter(
        method="filter_initiator_app_name",
        max_length=MAX_TEXT_FILTER_LENGTH,
        label="Initiating app's name",
        help_text="The display name of the application that initiated the event (whole, any case).",
    )
    target_id = django_filters.CharFilter(
        method="filter_target_id",
        max_length=MAX_TEXT_FILTER_LENGTH,
        label="Target id",
        help_text="The object id of one of the event's targets (exact).",
    )
    target_name = django_filters.CharFilter(
        method="filter_target_name",
        max_length=MAX_TEXT_FILTER_LENGTH,
        label="Target name",
        help_text="The display name of one of the event's targets (whole, any case).",
    )
    target_name_startswith = django_filters.CharFilter(
        method="filter_target_name_startswith",
        max_length=MAX_TEXT_FILTER_LENGTH,
        label="Target name starts with",
        help_text="The start of the display name of one of the event's targets (any case).",
    )

    def filter_activity_name(self, queryset, name, value):
        return _with_lookup(queryset, "activity", Activity.objects.filter(name__iexact=value))

    def filter_activity_name_startswith(self, queryset, name, value):
        return _with_lookup(queryset, "activity", Activity.objects.filter(name__istartswith=value))

    def filter_service_name(self, queryset, name, value):
        return _with_lookup(queryset, "service", Service.objects.filter(name__iexact=value))

    def filter_category_name(self, queryset, name, value):
        return _with_lookup(queryset, "category", Category.objects.filter(name__iexact=value))

    def filter_initiator_user_id(self, queryset, name, value):
        return _by_initiators(queryset, Q(user_object_id=value))

    def filter_initiator_user_name(self, queryset, name, value):
        return _by_initiators(queryset, Q(user_display_name__iexact=value))

    def filter_initiator_upn(self, queryset, name, value):
        return _by_initiators(queryset, Q(user_principal_name__iexact=value))

    def filter_initiator_upn_startswith(self, queryset, name, value):
        return _by_initiators(queryset, Q(user_principal_name__istartswith=value))

    def filter_initiator_app_id(self, queryset, name, value):
        return _by_initiators(queryset, Q(app_id=value))

    def filter_initiator_app_name(self, queryset, name, value):
        return _by_initiators(queryset, Q(app_display_name__iexact=value))

    def filter_target_id(self, queryset, name, value):
        return _by_targets(queryset, Q(object_id=value))

    def filter_target_name(self, queryset, name, value):
        return _by_targets(queryset, Q(display_name__iexact=value))

    def filter_target_name_startswith(self, queryset, name, value):
        return _by_targets(queryset, Q(display_name__istartswith=value))


# The precise filters above, in their order (the admin accepts them in its URLs too).
PRECISE_FILTERS = (
    "after",
    "before",
    "activity_id",
    "activity_name",
    "activity_name_startswith",
    "service_name",
    "category_name",
    "initiator_user_id",
    "initiator_user_name",
    "initiator_upn",
    "initiator_upn_startswith",
    "initiator_app_id",
    "initiator_app_name",
    "target_id",
    "target_name",
    "target_name_startswith",
)


def _with_lookup(queryset, field: str, rows):
    """Events whose ``field`` is one of the lookup ``rows`` (a small table, read first); one id
    keeps the plain equality that the (lookup, date) index serves best."""
    ids = list(rows.values_list("pk", flat=True))
    if len(ids) == 1:
        return queryset.filter(**{field: ids[0]})
    return queryset.filter(**{f"{field}__in": ids})


def _by_initiators(queryset, condition: Q):
    return queryset.filter(
        in_ids("initiator", ids_or_subquery(Initiator.objects.filter(condition), "pk"))
    )


def _by_targets(queryset, condition: Q):
    keys = event_keys_or_subquery(Target.objects.filter(condition), "event_id", "event_datetime")
    return queryset.filter(in_events(keys, queryset.db))
