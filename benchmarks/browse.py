"""Page times of the portal and the API on a populated database (run by ``benchmarks.worker``).

Each page is requested in-process through Django's test client, signed in as a superuser, once
to warm up and then ``REPEATS`` times; the figure is the median in milliseconds. Filter values
are taken from the data (the busiest initiator, a real target, the newest month), so every
filtered page has rows to show; the text filters are also given part of a name in another case,
and the listing is sorted by each sortable column.

Beside each page's time, the time its SQL took in the same requests (``benchmarks.sql_time``),
reported as the page's raw limit: the ratio says how much of the page is Python.
"""

import base64
import json
import statistics
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.db.models import Count, Max
from django.test import Client

from benchmarks.sql_time import timed_get
from logs.models import AuditEvent, Initiator, Target

REPEATS = 7
SORT_KEYS = ["service", "category", "activity", "status", "initiator"]
CHANGELIST = "/admin/logs/auditevent/"
EVENTS_API = "/api/v1/events/"
BENCH_USER = "benchmark-admin"


def page_times(path: str) -> dict:
    """Median milliseconds per page, and of its SQL in the same requests (the "raw" figures);
    ``path`` (the data file) is unused: the data is stored."""
    client = Client(HTTP_HOST="localhost")
    client.force_login(_superuser())
    figures, sql = {}, {}
    for name, url in pages():
        times, sql_times = [], []
        for attempt in range(REPEATS + 1):
            elapsed, in_sql, response = timed_get(client, url)
            if response.status_code != 200:
                raise RuntimeError(f"{name}: {url} answered {response.status_code}")
            if attempt:  # the first request warms caches
                times.append(elapsed)
                sql_times.append(in_sql)
        figures[name] = statistics.median(times)
        sql[name] = statistics.median(sql_times)
    return {"rows": figures, "raw": sql, "events": AuditEvent.objects.count()}


def pages() -> list[tuple[str, str]]:
    newest = AuditEvent.objects.aggregate(newest=Max("activity_datetime"))["newest"]
    month = {"since": (newest.replace(day=1)).isoformat(), "until": newest.isoformat()}
    busiest = (
        Initiator.objects.filter(kind="user")
        .annotate(event_count=Count("events"))
        .order_by("-event_count")
        .values_list("user_principal_name", flat=True)[:1]
        .get()
    )
    target = (
        Target.objects.filter(type="User").order_by("-id").values_list("object_id", flat=True)[0]
    )
    middle = AuditEvent.objects.order_by("-activity_datetime", "-id")[
        AuditEvent.objects.count() // 2
    ]
    single = [
        ("date range", month),
        ("service", {"service": "Self-service Password Management"}),
        ("category", {"category": "GroupManagement"}),
        ("activity", {"activity": "Add member to group"}),
        ("status", {"result": "failure"}),
        ("operation type", {"operation_type": "Delete"}),
        ("initiator", {"initiator": busiest}),
        ("target", {"target": target}),
        ("target type", {"target_type": "Application"}),
    ]
    combined = {"category": "UserManagement", "result": "success", **month}
    event_id = AuditEvent.objects.order_by("-id").values_list("id", flat=True)[0]
    # Text as a person types it: part of a name, in another case.
    group = (
        Target.objects.filter(type="Group")
        .exclude(display_name="")
        .order_by("-id")
        .values_list("display_name", flat=True)[0]
    )
    target_upn = (
        Target.objects.exclude(user_principal_name="")
        .order_by("-id")
        .values_list("user_principal_name", flat=True)[0]
    )
    parts = [
        ("initiator part", {"initiator": busiest.split("@")[0].upper()}),
        ("target part", {"target": group[1:].lower()}),
        # The UPN's domain: part of every user's name, so the names are many.
        ("broad target part", {"target": target_upn.split("@")[1].split(".")[0]}),
        ("search part", {"q": group[1:].upper()}),
        # The same domain searched for: it is in many initiators' and targets' names at once.
        ("broad search part", {"q": target_upn.split("@")[1].split(".")[0]}),
    ]
    deep_page = max(1, min(20, AuditEvent.objects.count() // 50))
    # Each column sort (both ways for the initiator, whose values are the most), alone, with
    # a filter, and a page deep into the sorted view.
    sorts = [
        *[(f"sort {key}", {"ordering": key}) for key in SORT_KEYS],
        ("sort -initiator", {"ordering": "-initiator"}),
        ("sort initiator, category", {"ordering": "initiator", "category": "UserManagement"}),
        ("sort status, month", {"ordering": "status", **month}),
        ("sort service, page 20", {"ordering": "service", "p": deep_page}),
    ]
    return [
        ("changelist default", CHANGELIST),
        *[(f"changelist {name}", f"{CHANGELIST}?{urlencode(query)}") for name, query in single],
        ("changelist 3 filters", f"{CHANGELIST}?{urlencode(combined)}"),
        ("changelist search", f"{CHANGELIST}?{urlencode({'q': busiest})}"),
        ("changelist broad search", f"{CHANGELIST}?{urlencode({'q': 'Update'})}"),
        *[(f"changelist {name}", f"{CHANGELIST}?{urlencode(query)}") for name, query in parts],
        *[(f"changelist {name}", f"{CHANGELIST}?{urlencode(query)}") for name, query in sorts],
        ("detail page", f"{CHANGELIST}{event_id}/change/"),
        # Opened from the middle of a filtered list: Previous and Next are found in that list.
        (
            "detail page in a filtered list",
            f"{CHANGELIST}{middle.pk}/change/?"
            + urlencode({"_changelist_filters": urlencode({"category": middle.category.name})}),
        ),
        ("api first page", EVENTS_API),
        (
            "api filtered",
            f"{EVENTS_API}?{urlencode({'category': 'GroupManagement', 'result': 'success'})}",
        ),
        ("api deep cursor", f"{EVENTS_API}?{urlencode({'cursor': _cursor_at(middle)})}"),
        ("api sorted by initiator", f"{EVENTS_API}?{urlencode({'ordering': 'initiator'})}"),
        (
            "api initiator part",
            f"{EVENTS_API}?{urlencode({'initiator': busiest.split('@')[0].upper()})}",
        ),
    ]


def _cursor_at(event) -> str:
    """The API's cursor for the page after ``event`` (see logs.api.pagination)."""
    payload = {"p": [event.activity_datetime.isoformat(), event.id], "r": 0}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def _superuser():
    user, _ = get_user_model().objects.get_or_create(
        username=BENCH_USER, defaults={"is_staff": True, "is_superuser": True}
    )
    return user
