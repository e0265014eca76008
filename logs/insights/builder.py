"""The builder that answers every compliance question for a period in four queries (see the
package docstring)."""

import re
from collections import defaultdict
from contextlib import contextmanager
from functools import cached_property
from urllib.parse import urlencode

from django.db import connections, transaction
from django.db.models import Count, Max, Prefetch

from logs.filters import without_duplicates
from logs.insights.answers import Answer, Period, Report
from logs.insights.charts import ChartFigures
from logs.insights.days import UTCDay, utc_day
from logs.insights.links import event_ref, list_url
from logs.insights.questions import (
    APPLICATION,
    APPLICATION_ACTIVITIES,
    FAILURE,
    GROUP_ADDED_ACTIVITIES,
    LICENCE_ACTIVITIES,
    LICENCE_PROPERTY,
    OWNER_CHANGE_ACTIVITIES,
    PASSWORD_ACTIVITIES,
    RENAME_ACTIVITIES,
    RENAME_PROPERTY,
    SERVICE_PRINCIPAL,
    SERVICE_PRINCIPAL_ACTIVITIES,
    SUCCESS,
    USER,
    USER_ACTIVITIES,
)
from logs.models import (
    Activity,
    Annotation,
    AuditEvent,
    ModifiedProperty,
    Service,
    Target,
)
from logs.property_values import readable_value
from logs.utc_text import UTCDateTimeText, from_utc_text

# Listed items per answer; the count and the links always cover every event.
ITEM_LIMIT = 100
SKU_NAME = re.compile(r"SkuName=([^,\]\s]+)")


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


class ReportBuilder(ChartFigures):
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
        package docstring). PostgreSQL needs no such hint.
        """
        dates = f"{path}activity_datetime"
        queryset = queryset.filter(
            **{f"{dates}__gte": self.period.since, f"{dates}__lte": self.period.until}
        )
        if connections[queryset.db].vendor != "sqlite":
            return queryset
        return queryset.alias(report_day=UTCDay(dates)).filter(
            report_day__gte=utc_day(self.period.since), report_day__lte=utc_day(self.period.until)
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
            f"{list_url('admin:logs_auditevent_changelist')}?{query}",
            f"{list_url('api:event-list')}?{query}",
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
                        **event_ref(event_id, from_utc_text(when)),
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
                        **event_ref(event_id, from_utc_text(when)),
                        "application_id": object_id,
                        "old_name": old_name,
                        "new_name": new_name,
                        "application_changelist_url": changelist,
                    }
                )
        answer.items_total = answer.count
        return answer


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


def _informational_event_ids():
    """The events annotated informational, as a subquery the database runs once: a few in a
    hundred events are, so checking each of a month's events against that list costs less than
    looking each one up in the annotations (``NOT EXISTS``)."""
    return Annotation.objects.filter(kind=Annotation.Kind.INFORMATIONAL).values("event_id")


def _event_item(event) -> dict:
    return {
        **event_ref(event.pk, event.activity_datetime),
        "initiated_by": event.initiator.name if event.initiator else "",
    }


def _first_target(event, target_type: str):
    return next((t for t in event.targets.all() if t.type == target_type), None)


def _target_name(target) -> str:
    return target.display_name or target.user_principal_name or target.object_id


def _skus(value: str | None) -> set[str]:
    return set(SKU_NAME.findall(value or ""))
