"""Page times of the Graph-compatible endpoint on a populated database (run by
``benchmarks.worker``).

Each page is requested in-process through Django's test client with an API token as a bearer
token, so the whole path is timed: the token check, the query options, the FilterSet, the page
of records as Graph serves them and the access record each request leaves. Once to warm up,
then ``REPEATS`` times; the figure is the median in milliseconds. Filter values are taken from
the data (the newest month, a real target, the busiest user's UPN), and every page is checked
to hold records (a full page of ``TOP`` wherever the data has that many), so no figure comes
from an empty answer. Beside each page's time, its SQL's in the same requests
(``benchmarks.sql_time``), reported as the page's raw limit.
"""

import statistics
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.db.models import Count, Max
from django.test import Client
from knox.models import AuthToken

from benchmarks.sql_time import timed_get
from logs.graph.pagination import encode_skiptoken
from logs.models import AuditEvent, Initiator, Target

REPEATS = 7
TOP = 100
LIST = "/graph/v1.0/auditLogs/directoryAudits"
BENCH_USER = "benchmark-graph"


def page_times(path: str) -> dict:
    """Median milliseconds per page; ``path`` (the data file) is unused: the data is stored."""
    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {_token()}")
    figures, sql = {}, {}
    for name, query, minimum in pages():
        url = f"{LIST}?{urlencode(query)}"
        times, sql_times = [], []
        for attempt in range(REPEATS + 1):
            elapsed, in_sql, response = timed_get(client, url)
            if response.status_code != 200:
                raise RuntimeError(f"{name}: {url} answered {response.status_code}")
            served = len(response.json()["value"])
            if served < minimum:
                raise RuntimeError(f"{name}: {url} served {served} records, expected {minimum}+")
            if attempt:  # the first request warms caches
                times.append(elapsed)
                sql_times.append(in_sql)
        figures[name] = statistics.median(times)
        sql[name] = statistics.median(sql_times)
    return {"rows": figures, "raw": sql, "events": AuditEvent.objects.count()}


def pages() -> list[tuple[str, dict, int]]:
    """(row name, query options, the fewest records the page must hold)."""
    count = AuditEvent.objects.count()
    full = min(TOP, count)
    newest = AuditEvent.objects.aggregate(newest=Max("activity_datetime"))["newest"]
    month_start = newest.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    in_month = AuditEvent.objects.filter(activity_datetime__gte=month_start).count()
    busiest_upn = (
        Initiator.objects.filter(kind="user")
        .exclude(user_principal_name="")
        .annotate(event_count=Count("events"))
        .order_by("-event_count")
        .values_list("user_principal_name", flat=True)[:1]
        .get()
    )
    target = Target.objects.filter(type="User").exclude(display_name="").order_by("-id")[0]
    middle = AuditEvent.objects.order_by("-activity_datetime", "-id")[count // 2]
    date_range = (
        f"activityDateTime ge {_odata(month_start)} and activityDateTime le {_odata(newest)}"
    )
    prefix = busiest_upn[:4].replace("'", "''")
    return [
        ("graph first page", {"$top": TOP}, full),
        ("graph date range", {"$filter": date_range, "$top": TOP}, min(TOP, in_month)),
        (
            "graph targetResources/any id",
            {"$filter": f"targetResources/any(t: t/id eq '{target.object_id}')", "$top": TOP},
            1,
        ),
        (
            "graph targetResources/any displayName",
            {
                "$filter": "targetResources/any(t: t/displayName eq "
                f"'{target.display_name.replace(chr(39), chr(39) * 2)}')",
                "$top": TOP,
            },
            1,
        ),
        (
            "graph startswith initiator UPN",
            {
                "$filter": f"startswith(initiatedBy/user/userPrincipalName, '{prefix}')",
                "$top": TOP,
            },
            1,
        ),
        (
            "graph deep skiptoken",
            {
                "$top": TOP,
                "$skiptoken": encode_skiptoken(middle.activity_datetime, middle.pk, False),
            },
            min(TOP, count - count // 2 - 1),
        ),
    ]


def _odata(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _token() -> str:
    user, _ = get_user_model().objects.get_or_create(
        username=BENCH_USER, defaults={"is_staff": True, "is_superuser": True}
    )
    return AuthToken.objects.create(user)[1]
