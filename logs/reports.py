"""The compliance questions auditors ask, answered once for the admin, the API and the command.

For a period (default: the 30 days up to now), optionally one service and optionally without
informational events (Microsoft Substrate Management write-backs, see logs.annotations):

- Users: the changes applied to users, per activity; how many distinct users were changed; how
  many passwords were changed or reset (admin and self-service).
- Groups: the groups added; the owner changes (group, owner, added or removed); the licences
  assigned to groups and users.
- Applications: the applications added, updated or removed; the service principals changed; the
  applications renamed (old name → new name).

How each answer reads real Entra records (activity names and services from Microsoft's "Microsoft
Entra audit log activity reference"; target types and modified-property names as real records
write them, see fixtures/ and logs.activity_catalogue):

- user changes: ``USER_ACTIVITIES`` (Core Directory and Self-service Password Management,
  category UserManagement), counted per activity;
- distinct users: the same events' targets of type ``User``, distinct object id;
- password changes: ``PASSWORD_ACTIVITIES``, per activity; failures counted apart;
- groups added: "Add group", the ``Group`` target;
- owner changes: "Add owner to group" (added), "Remove owner from group" (removed); the owner is
  the first target (User or ServicePrincipal), the group the ``Group.DisplayName`` and
  ``Group.ObjectID`` modified properties, else the ``Group`` target;
- licences: "Change user license" (users), "Set group license" (groups); the
  ``AssignedLicense`` modified property holds ``[SkuName=..., SkuId=...]`` entries: those in the
  new value and not the old are assigned, the reverse removed;
- applications: ``APPLICATION_ACTIVITIES``, per activity, and the ``Application`` targets;
- service principals: ``SERVICE_PRINCIPAL_ACTIVITIES``, per activity, and the
  ``ServicePrincipal`` targets;
- renames: "Update application" events whose ``Application`` target's ``DisplayName`` modified
  property has an old value different from the new (values are JSON in strings:
  ``["Payroll Sync"]`` → ``["Payroll Connector"]``).

Only applied changes count (result ``success``): a failed attempt changed nothing. Failed
password changes are reported beside the count, as auditors ask about them.

Every answer carries ``changelist_url`` (the portal's changelist filtered to exactly the events
counted: the shared FilterSet's parameters, ``activity`` repeated when an answer spans several)
and ``api_url`` (the same filters on ``/api/v1/events/``); listed items link to their event.
Renames are a property of some "Update application" events, which no filter selects, so each
rename links to its event.

Performance: four queries answer everything: counts per (day, category, activity, result),
from which most answers and every chart are read; the targets of the users', applications' and
service principals' events, grouped per object; the licence and display-name properties of the
licence and application-update events; and the newest events the group answers list (at most
``ITEM_LIMIT`` each). None reads an event's row (a kilobyte or more, with the original record)
for a whole period's events. The counts come from an index on the events: on SQLite, which
keeps no statistics and aggregates by sorting, ``event_day_counts_idx`` holds each event's day,
category, activity, result, date and service in the order the counts need (migration 0010); on
PostgreSQL ``event_date_idx`` includes them and the groups are hashed. The targets and
properties come from the copies of the event's date, activity, result and service that each
target carries (migration 0011; events never change, so the copies cannot go stale), through
``target_activity_date_idx``: a month's targets are read as ranges of one index, none joined
to its event (``python -m benchmarks --metric reports`` measures it).
"""

import re
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property, lru_cache
from urllib.parse import urlencode

from django import forms
from django.db import connections, transaction
from django.db.models import Count, DateField, Func, Max, Prefetch
from django.db.models.functions import TruncDate
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone

from logs.filters import UtcIsoDateTimeField, without_duplicates
from logs.models import (
    Activity,
    Annotation,
    AuditEvent,
    Category,
    ModifiedProperty,
    Service,
    Target,
)
from logs.property_values import readable_value
from logs.utc_text import UTCDateTimeText, from_utc_text

DEFAULT_DAYS = 30
# Listed items per answer; the count and the links always cover every event.
ITEM_LIMIT = 100
TOP_ACTIVITIES = 10
CHART_CATEGORIES = 6

USER_ACTIVITIES = [
    "Add user",
    "Update user",
    "Delete user",
    "Hard Delete user",
    "Restore user",
    "Disable account",
    "Enable account",
    "Change user license",
    "Set force change user password",
    "Change user password",
    "Reset password",
    "Reset user password",  # not in the reference, but real logs write it
    "Change password (self-service)",
    "Reset password (self-service)",
    "Reset password (by admin)",
]
PASSWORD_ACTIVITIES = [
    "Change user password",
    "Reset password",
    "Reset user password",
    "Change password (self-service)",
    "Reset password (self-service)",
    "Reset password (by admin)",
]
GROUP_ADDED_ACTIVITIES = ["Add group"]
OWNER_CHANGE_ACTIVITIES = {"Add owner to group": "added", "Remove owner from group": "removed"}
LICENCE_ACTIVITIES = ["Change user license", "Set group license"]
LICENCE_PROPERTY = "AssignedLicense"
APPLICATION_ACTIVITIES = {
    "Add application": "added",
    "Update application": "updated",
    "Delete application": "removed",
    "Hard Delete application": "removed",
    "Restore application": "restored",
}
SERVICE_PRINCIPAL_ACTIVITIES = [
    "Add service principal",
    "Update service principal",
    "Remove service principal",
    "Add service principal credentials",
    "Remove service principal credentials",
]
RENAME_ACTIVITIES = ["Update application"]
RENAME_PROPERTY = "DisplayName"
# The target types the per-object answers read.
USER, APPLICATION, SERVICE_PRINCIPAL = "User", "Application", "ServicePrincipal"

SUCCESS = AuditEvent.Result.SUCCESS
FAILURE = AuditEvent.Result.FAILURE
SKU_NAME = re.compile(r"SkuName=([^,\]\s]+)")


class UTCDay(Func):
    """The UTC calendar day of a date-time, computed in the database.

    SQLite stores date-times as UTC text, so the first ten characters are the day (Django's
    TruncDate there calls back into Python for every row); PostgreSQL converts natively, and
    groups dates faster than their text. On SQLite the expression is spelled exactly as the
    ``event_day_counts_idx`` index spells it (numbers written out, not passed as parameters),
    or SQLite would not recognise it.
    """

    output_field = DateField()
    arity = 1

    def as_sqlite(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"substr({sql}, 1, 10)", params

    def as_sql(self, compiler, connection, **extra):
        return compiler.compile(TruncDate(self.source_expressions[0], tzinfo=UTC))


@dataclass
class Period:
    since: datetime
    until: datetime
    service: str | None = None
    exclude_informational: bool = False

    @classmethod
    def default(cls, since=None, until=None, service=None, exclude_informational=False):
        until = until or timezone.now()
        since = since or until - timedelta(days=DEFAULT_DAYS)
        return cls(since, until, service or None, exclude_informational)

    def filters(self) -> dict:
        """The FilterSet parameters that select this period's events."""
        params = {"since": _iso(self.since), "until": _iso(self.until)}
        if self.service:
            params["service"] = self.service
        if self.exclude_informational:
            params["informational"] = "false"
        return params


@dataclass
class Answer:
    question: str
    count: int
    changelist_url: str | None = None
    api_url: str | None = None
    by_activity: list[dict] = field(default_factory=list)
    items: list[dict] = field(default_factory=list)
    items_total: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def items_truncated(self) -> bool:
        return self.items_total > len(self.items)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["items_truncated"] = self.items_truncated
        return data


@dataclass
class Report:
    period: Period
    users: dict[str, Answer]
    groups: dict[str, Answer]
    applications: dict[str, Answer]
    charts: dict
    totals: dict

    def sections(self) -> list[tuple[str, dict[str, Answer]]]:
        return [("Users", self.users), ("Groups", self.groups), ("Applications", self.applications)]

    def as_dict(self) -> dict:
        return {
            "period": {
                "since": _iso(self.period.since),
                "until": _iso(self.period.until),
                "service": self.period.service,
                "exclude_informational": self.period.exclude_informational,
            },
            "totals": self.totals,
            "users": {key: answer.as_dict() for key, answer in self.users.items()},
            "groups": {key: answer.as_dict() for key, answer in self.groups.items()},
            "applications": {key: answer.as_dict() for key, answer in self.applications.items()},
            "charts": self.charts,
        }


def compliance_report(period: Period) -> Report:
    with _planner_settings(AuditEvent.objects.all().db):
        return ReportBuilder(period).build()


@contextmanager
def _planner_settings(using: str):
    """On PostgreSQL, the report's queries run in one transaction without JIT compilation
    (their estimated cost, a month of events, starts it, and compiling takes longer than
    running them), with room to group a month's targets in memory rather than on disk, and
    with index lookups priced as the cached reads they are."""
    if connections[using].vendor != "postgresql":
        yield
        return
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '64MB'")
        # A month's index pages are in memory: looking up each of its licence and application
        # targets' properties by index beats reading every property (the default cost, 4,
        # prices each lookup as a disk seek).
        cursor.execute("SET LOCAL random_page_cost = 1.1")
        yield


class ReportBuilder:
    def __init__(self, period: Period):
        self.period = period
        self.activity_ids = dict(Activity.objects.values_list("name", "pk"))
        self.activity_names = {pk: name for name, pk in self.activity_ids.items()}
        events = self.in_period(AuditEvent.objects.order_by())
        self.service_id = None
        if period.service:
            service = Service.objects.filter(name=period.service).first()
            self.service_id = service.pk if service else 0
            events = events.filter(service=self.service_id)
        if period.exclude_informational:
            events = events.exclude(id__in=_informational_event_ids())
        # An event imported twice (portal CSV and another format) is counted once.
        events = without_duplicates(events)
        self.events = events
        # One pass over the range: (day, category, activity, result) → count. Most answers and
        # every chart are read from it, so the range is scanned once.
        self.counts = defaultdict(int)
        self.day_counts = defaultdict(int)
        for day, category_id, activity_id, result, count in (
            events.annotate(day=UTCDay("activity_datetime"))
            .values_list("day", "category_id", "activity_id", "result")
            .annotate(n=Count("id"))
            .order_by()
        ):
            self.counts[(activity_id, result)] += count
            self.day_counts[(str(day), category_id, result)] += count

    # -- building blocks ----------------------------------------------------------------
    def ids(self, names) -> list[int]:
        return [self.activity_ids[name] for name in names if name in self.activity_ids]

    def applied(self, names):
        """This period's successful events of the named activities."""
        return self.events.filter(activity__in=self.ids(names), result=SUCCESS)

    def in_period(self, queryset, path: str = ""):
        """``queryset`` narrowed to this period's events (reached by ``path``).

        On SQLite the period's days are stated too: that lets SQLite read the events from
        ``event_day_counts_idx`` (day, category, activity, result, date, service), which
        holds everything the answers ask of an event, already grouped by day (see the
        module docstring). PostgreSQL needs no such hint.
        """
        dates = f"{path}activity_datetime"
        queryset = queryset.filter(
            **{f"{dates}__gte": self.period.since, f"{dates}__lte": self.period.until}
        )
        if connections[queryset.db].vendor != "sqlite":
            return queryset
        return queryset.alias(report_day=UTCDay(dates)).filter(
            report_day__gte=_day(self.period.since), report_day__lte=_day(self.period.until)
        )

    def applied_targets(self, queryset, path: str, names):
        """``queryset`` (targets, or what reaches them by ``path``: ``"target__"``) narrowed to
        the targets of this period's successful events of ``names``.

        Read from the event's copies on each target (``Target.event_datetime`` and its
        neighbours), so that each activity's targets for the period are one range of
        ``target_activity_date_idx``, which holds everything the answers read of a target:
        no target is joined to its event.
        """
        queryset = queryset.filter(
            **{
                f"{path}event_activity__in": self.ids(names),
                f"{path}event_datetime__gte": self.period.since,
                f"{path}event_datetime__lte": self.period.until,
                f"{path}event_result": SUCCESS,
            }
        )
        if self.service_id is not None:
            queryset = queryset.filter(**{f"{path}event_service": self.service_id})
        if self.period.exclude_informational:
            queryset = queryset.exclude(**{f"{path}event__in": _informational_event_ids()})
        queryset = without_duplicates(queryset, f"{path}event__")
        return queryset.order_by()

    @cached_property
    def changed_objects(self) -> dict[tuple[str, int], dict[str, list]]:
        """Per (target type, activity id): object id → [name, events], for the users',
        applications' and service principals' applied events, in one query."""
        wanted = {
            USER: set(self.ids(USER_ACTIVITIES)),
            APPLICATION: set(self.ids(APPLICATION_ACTIVITIES)),
            SERVICE_PRINCIPAL: set(self.ids(SERVICE_PRINCIPAL_ACTIVITIES)),
        }
        names = [*USER_ACTIVITIES, *APPLICATION_ACTIVITIES, *SERVICE_PRINCIPAL_ACTIVITIES]
        targets = self.applied_targets(Target.objects, "", names).filter(type__in=list(wanted))
        objects = defaultdict(dict)
        for kind, activity_id, object_id, name, events in _per_object(targets):
            if activity_id in wanted[kind]:
                objects[(kind, activity_id)][object_id] = [name, events]
        return objects

    @cached_property
    def property_rows(self) -> list[tuple]:
        """The licence and display-name properties of the licence and application-update
        events, newest event first: (activity id, property, event id, date as UTC text (see
        ``UTCDateTimeText``), target type, name, UPN, object id, old value, new value)."""
        names = [*LICENCE_ACTIVITIES, *RENAME_ACTIVITIES]
        rows = (
            self.applied_targets(ModifiedProperty.objects, "target__", names)
            .filter(name__in=[LICENCE_PROPERTY, RENAME_PROPERTY])
            .annotate(event_date=UTCDateTimeText("target__event_datetime"))
            .values_list(
                "target__event_activity_id",
                "name",
                "target__event_id",
                "event_date",
                "target__type",
                "target__display_name",
                "target__user_principal_name",
                "target__object_id",
                "old_value",
                "new_value",
                "target__position",
                "position",
            )
        )
        # Sorted here, as text: the order needs every row, the listing only the newest.
        ordered = sorted(rows, key=lambda row: (row[3], row[2], -row[10], -row[11]), reverse=True)
        return [row[:10] for row in ordered]

    def count(self, names, result=SUCCESS) -> int:
        return sum(self.counts[(pk, result)] for pk in self.ids(names))

    def links(self, names=None, **filters) -> tuple[str, str]:
        params = self.period.filters()
        if names is not None:
            # A name never stored has no events; the filter would refuse it as unknown.
            params["activity"] = [name for name in names if name in self.activity_ids]
        params.update(filters)
        query = urlencode(params, doseq=True)
        return (
            f"{_list_url('admin:logs_auditevent_changelist')}?{query}",
            f"{_list_url('api:event-list')}?{query}",
        )

    def answer(self, question, names, result=SUCCESS, **kwargs) -> Answer:
        count = self.count(names, result)
        # No events, nothing to check: and a filter refuses an activity name never stored.
        changelist, api = self.links(names, result=result) if count else (None, None)
        return Answer(
            question,
            count,
            changelist,
            api,
            by_activity=self.by_activity(names, result),
            **kwargs,
        )

    def by_activity(self, names, result=SUCCESS) -> list[dict]:
        rows = []
        for name in names:
            pk = self.activity_ids.get(name)
            count = self.counts[(pk, result)] if pk else 0
            if count:
                changelist, api = self.links([name], result=result)
                rows.append(
                    {"activity": name, "count": count, "changelist_url": changelist, "api_url": api}
                )
        return sorted(rows, key=lambda row: -row["count"])

    def listed(self, names):
        """The newest ``ITEM_LIMIT`` applied events of the activities, targets and their
        properties in two more queries."""
        return list(
            self.applied(names)
            .defer("original")
            .select_related("initiator")
            .prefetch_related(
                Prefetch("targets", Target.objects.prefetch_related("modified_properties"))
            )
            .order_by("-activity_datetime", "-id")[:ITEM_LIMIT]
        )

    # -- the questions ------------------------------------------------------------------
    def build(self) -> Report:
        return Report(
            period=self.period,
            users={
                "changes": self.user_changes(),
                "distinct_users": self.distinct_users(),
                "password_changes": self.password_changes(),
            },
            groups={
                "groups_added": self.groups_added(),
                "owner_changes": self.owner_changes(),
                "licences": self.licences(),
            },
            applications={
                "applications": self.applications(),
                "service_principals": self.service_principals(),
                "renames": self.renames(),
            },
            charts=self.charts(),
            totals={
                "events": sum(self.counts.values()),
                "failures": sum(n for (_, result), n in self.counts.items() if result == FAILURE),
            },
        )

    def user_changes(self) -> Answer:
        return self.answer("Changes applied to users, by activity", USER_ACTIVITIES)

    def distinct_users(self) -> Answer:
        users = len(
            {
                object_id
                for activity_id in self.ids(USER_ACTIVITIES)
                for object_id in self.changed_objects.get((USER, activity_id), ())
                if object_id
            }
        )
        changelist, api = self.links(USER_ACTIVITIES, result=SUCCESS) if users else (None, None)
        return Answer("Distinct users changed", users, changelist, api)

    def password_changes(self) -> Answer:
        answer = self.answer("Passwords changed or reset", PASSWORD_ACTIVITIES)
        failed = self.count(PASSWORD_ACTIVITIES, FAILURE)
        failed_changelist, failed_api = (
            self.links(PASSWORD_ACTIVITIES, result=FAILURE) if failed else (None, None)
        )
        answer.extra = {
            "failed": {
                "count": failed,
                "changelist_url": failed_changelist,
                "api_url": failed_api,
            }
        }
        return answer

    def groups_added(self) -> Answer:
        answer = self.answer("Groups added", GROUP_ADDED_ACTIVITIES)
        for event in self.listed(GROUP_ADDED_ACTIVITIES):
            group = _first_target(event, "Group")
            answer.items.append(
                {
                    **_event_item(event),
                    "group": group.display_name if group else "",
                    "group_id": group.object_id if group else "",
                }
            )
        answer.items_total = answer.count
        return answer

    def owner_changes(self) -> Answer:
        answer = self.answer("Group owner changes", list(OWNER_CHANGE_ACTIVITIES))
        for event in self.listed(list(OWNER_CHANGE_ACTIVITIES)):
            targets = list(event.targets.all())
            owner = targets[0] if targets else None
            properties = {
                prop.name: readable_value(prop.new_value)
                for target in targets
                for prop in target.modified_properties.all()
            }
            group = _first_target(event, "Group")
            answer.items.append(
                {
                    **_event_item(event),
                    "change": OWNER_CHANGE_ACTIVITIES[self.activity_names[event.activity_id]],
                    "group": properties.get("Group.DisplayName")
                    or (group.display_name if group else ""),
                    "group_id": properties.get("Group.ObjectID")
                    or (group.object_id if group else ""),
                    "owner": _target_name(owner) if owner else "",
                    "owner_id": owner.object_id if owner else "",
                }
            )
        answer.items_total = answer.count
        return answer

    def licences(self) -> Answer:
        answer = self.answer("Licences assigned to groups and users", LICENCE_ACTIVITIES)
        activities = set(self.ids(LICENCE_ACTIVITIES))
        rows = (
            row[2:]
            for row in self.property_rows
            if row[0] in activities and row[1] == LICENCE_PROPERTY
        )
        per_sku = defaultdict(lambda: {"assigned": 0, "removed": 0})
        for event_id, when, kind, name, upn, object_id, old, new in rows:
            old_skus, new_skus = _skus(old), _skus(new)
            assigned = sorted(new_skus - old_skus)
            removed = sorted(old_skus - new_skus)
            for sku in assigned:
                per_sku[sku]["assigned"] += 1
            for sku in removed:
                per_sku[sku]["removed"] += 1
            answer.items_total += 1
            if len(answer.items) < ITEM_LIMIT:
                answer.items.append(
                    {
                        **_event_ref(event_id, from_utc_text(when)),
                        "target_type": kind,
                        "target": name or upn or object_id,
                        "target_id": object_id,
                        "assigned": assigned,
                        "removed": removed,
                    }
                )
        answer.extra = {
            "licences": [
                {"sku": sku, **counts}
                for sku, counts in sorted(per_sku.items(), key=lambda kv: -kv[1]["assigned"])
            ]
        }
        return answer

    def applications(self) -> Answer:
        names = list(APPLICATION_ACTIVITIES)
        answer = self.answer("Applications added, updated or removed", names)
        self._changed_objects(answer, names, APPLICATION, APPLICATION_ACTIVITIES)
        return answer

    def service_principals(self) -> Answer:
        answer = self.answer("Service principals changed", SERVICE_PRINCIPAL_ACTIVITIES)
        self._changed_objects(answer, SERVICE_PRINCIPAL_ACTIVITIES, SERVICE_PRINCIPAL)
        return answer

    def _changed_objects(self, answer, names, target_type, verbs=None) -> None:
        """Which objects changed: per object, its name and how many events of each activity."""
        objects = {}
        for activity_id in self.ids(names):
            activity = self.activity_names[activity_id]
            key = verbs[activity] if verbs else activity
            changed = self.changed_objects.get((target_type, activity_id), {})
            for object_id, (name, count) in changed.items():
                entry = objects.setdefault(
                    object_id, {"object_id": object_id, "name": name, "changes": {}, "total": 0}
                )
                entry["name"] = entry["name"] or name
                entry["changes"][key] = entry["changes"].get(key, 0) + count
                entry["total"] += count
        ranked = sorted(objects.values(), key=lambda entry: (-entry["total"], entry["name"]))
        for entry in ranked[:ITEM_LIMIT]:
            changelist, api = self.links(names, result=SUCCESS, target=entry["object_id"])
            answer.items.append({**entry, "changelist_url": changelist, "api_url": api})
        answer.items_total = len(objects)

    def renames(self) -> Answer:
        activities = set(self.ids(RENAME_ACTIVITIES))
        rows = (
            (event_id, when, object_id, old, new)
            for activity_id, prop, event_id, when, kind, _, _, object_id, old, new in (
                self.property_rows
            )
            if activity_id in activities and prop == RENAME_PROPERTY and kind == APPLICATION
        )
        answer = Answer("Applications renamed", 0)
        for event_id, when, object_id, old, new in rows:
            # Most updates leave the name as it was: the same text needs no decoding.
            if old == new:
                continue
            old_name, new_name = readable_value(old), readable_value(new)
            if old_name == new_name:
                continue
            answer.count += 1
            if len(answer.items) < ITEM_LIMIT:
                changelist, _ = self.links(RENAME_ACTIVITIES, result=SUCCESS, target=object_id)
                answer.items.append(
                    {
                        **_event_ref(event_id, from_utc_text(when)),
                        "application_id": object_id,
                        "old_name": old_name,
                        "new_name": new_name,
                        "application_changelist_url": changelist,
                    }
                )
        answer.items_total = answer.count
        return answer

    # -- charts ---------------------------------------------------------------------------
    def charts(self) -> dict:
        per_day = defaultdict(lambda: [0, 0])
        for (day, category_id, result), count in self.day_counts.items():
            per_day[(day, category_id)][0] += count
            if result == FAILURE:
                per_day[(day, category_id)][1] += count
        categories = dict(Category.objects.values_list("pk", "name"))
        days = _days(self.period.since, self.period.until)
        totals_by_category = defaultdict(int)
        cells = defaultdict(int)
        failures = defaultdict(int)
        for (day, category_id), (count, failed) in per_day.items():
            name = categories.get(category_id, "")
            totals_by_category[name] += count
            cells[(day, name)] += count
            failures[day] += failed
        ranked = sorted(totals_by_category, key=lambda name: -totals_by_category[name])
        shown, rest = ranked[:CHART_CATEGORIES], set(ranked[CHART_CATEGORIES:])
        series = [*shown, "Other"] if rest else shown
        events_per_day = []
        for day in days:
            values = {name: cells[(day, name)] for name in shown}
            if rest:
                values["Other"] = sum(cells[(day, name)] for name in rest)
            events_per_day.append({"day": day, "total": sum(values.values()), "by": values})
        top = sorted(
            (
                (
                    self.activity_names.get(pk, ""),
                    sum(n for (activity_id, _), n in self.counts.items() if activity_id == pk),
                )
                for pk in {activity_id for activity_id, _ in self.counts}
            ),
            key=lambda pair: (-pair[1], pair[0]),
        )[:TOP_ACTIVITIES]
        top_activities = []
        for name, count in top:
            changelist, api = self.links([name])
            top_activities.append(
                {"activity": name, "count": count, "changelist_url": changelist, "api_url": api}
            )
        return {
            "categories": series,
            "events_per_day": events_per_day,
            "failures_per_day": [{"day": day, "count": failures[day]} for day in days],
            "top_activities": top_activities,
        }


def _per_object(targets) -> list[tuple]:
    """``targets`` grouped per (type, activity id, object id): the greatest of its names and how
    many distinct events.

    PostgreSQL counts distinct values by sorting every row, which took most of the query's
    time; so there each event's rows for an object are first made one, in the order
    ``target_activity_date_idx`` already returns them (the event's copies, then the event,
    type and object), and the objects are then counted by hashing. SQLite groups by sorting
    either way, and the plain form is its fastest.
    """
    if connections[targets.db].vendor != "postgresql":
        return list(
            targets.values_list("type", "event_activity_id", "object_id").annotate(
                name=Max("display_name"), events=Count("event_id", distinct=True)
            )
        )
    per_event = targets.values_list(
        "event_activity_id",
        "event_datetime",
        "event_result",
        "event_service_id",
        "event_id",
        "type",
        "object_id",
    ).annotate(name=Max("display_name"))
    sql, params = per_event.query.sql_with_params()
    with connections[targets.db].cursor() as cursor:
        cursor.execute(
            "SELECT type, event_activity_id, object_id, MAX(name), COUNT(*) "
            f"FROM ({sql}) AS per_event GROUP BY 1, 2, 3",
            params,
        )
        return cursor.fetchall()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _informational_event_ids():
    """The events annotated informational, as a subquery the database runs once: a few in a
    hundred events are, so checking each of a month's events against that list costs less than
    looking each one up in the annotations (``NOT EXISTS``)."""
    return Annotation.objects.filter(kind=Annotation.Kind.INFORMATIONAL).values("event_id")


def _day(moment: datetime) -> str:
    return str(moment.astimezone(UTC).date())


def _days(since: datetime, until: datetime) -> list[str]:
    first = since.astimezone(UTC).date()
    last = until.astimezone(UTC).date()
    return [str(first + timedelta(days=n)) for n in range((last - first).days + 1)]


def _event_ref(event_id: int, when: datetime) -> dict:
    return {
        "event_id": event_id,
        "activity_datetime": _iso(when),
        "url": _event_url("admin:logs_auditevent_change", event_id),
        "api_url": _event_url("api:event-detail", event_id),
    }


def _list_url(view_name: str) -> str:
    return _resolved(view_name, None, get_script_prefix(), get_urlconf())


def _event_url(view_name: str, event_id: int) -> str:
    """``reverse(view_name, args=[event_id])``, resolved once per view: a report links to
    hundreds of events, and resolving each took a tenth of its time."""
    template = _resolved(view_name, _URL_PLACEHOLDER, get_script_prefix(), get_urlconf())
    return template.replace(str(_URL_PLACEHOLDER), str(event_id))


_URL_PLACEHOLDER = 918273645


@lru_cache(maxsize=32)
def _resolved(view_name: str, argument, script_prefix: str, urlconf) -> str:
    """``reverse``'s answer, kept per script prefix and URLconf (what else it depends on)."""
    return reverse(view_name, args=[argument] if argument is not None else None)


def _event_item(event) -> dict:
    return {
        **_event_ref(event.pk, event.activity_datetime),
        "initiated_by": event.initiator.name if event.initiator else "",
    }


def _first_target(event, target_type: str):
    return next((t for t in event.targets.all() if t.type == target_type), None)


def _target_name(target) -> str:
    return target.display_name or target.user_principal_name or target.object_id


def _skus(value: str | None) -> set[str]:
    return set(SKU_NAME.findall(value or ""))


class ReportParametersForm(forms.Form):
    """The report's parameters as the API, the command and the Insights page take them: checked,
    never guessed (a bad date or an unknown service is an error, not a default)."""

    since = UtcIsoDateTimeField(required=False, help_text="ISO 8601; default: 30 days before until")
    until = UtcIsoDateTimeField(required=False, help_text="ISO 8601; default: now")
    service = forms.ModelChoiceField(
        queryset=Service.objects.all(), to_field_name="name", required=False
    )
    exclude_informational = forms.ChoiceField(
        choices=[("true", "true"), ("false", "false")], required=False
    )

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("since", "Must not be later than until.")
        if since and not until and since > timezone.now():
            self.add_error("since", "Must not be in the future when until is not given.")
        return cleaned

    def period(self) -> Period:
        data = self.cleaned_data
        until = data.get("until")
        since = data.get("since")
        if since and not until:
            until = timezone.now()
        return Period.default(
            since=since,
            until=until,
            service=data["service"].name if data.get("service") else None,
            exclude_informational=data.get("exclude_informational") == "true",
        )
