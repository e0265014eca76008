"""Time of the compliance answers on a populated database (run by ``benchmarks.worker``).

All questions for the 30 days up to the newest event, through ``logs.insights`` (what the API,
the command and the Insights page call), with and without informational events, then the
Insights page and the API endpoint as a request. Median milliseconds over ``REPEATS`` runs
after one warm-up, each beside the time its SQL took in the same runs (``benchmarks.sql_time``),
reported as its raw limit.
"""

import statistics
from datetime import timedelta
from urllib.parse import urlencode

from django.db.models import Max
from django.test import Client

from benchmarks.browse import _superuser
from benchmarks.sql_time import timed_call
from logs.insights.answers import Period
from logs.insights.builder import compliance_report
from logs.models import AuditEvent

REPEATS = 7


def report_times(path: str) -> dict:
    """Median milliseconds per row; ``path`` (the data file) is unused: the data is stored."""
    newest = AuditEvent.objects.aggregate(newest=Max("activity_datetime"))["newest"]
    since = newest - timedelta(days=30)
    query = urlencode({"since": since.isoformat(), "until": newest.isoformat()})
    client = Client(HTTP_HOST="localhost")
    client.force_login(_superuser())
    runs = {
        "all questions, 30 days": lambda: compliance_report(Period(since, newest)),
        "all questions, 30 days, informational excluded": lambda: compliance_report(
            Period(since, newest, exclude_informational=True)
        ),
        "insights page": lambda: _get(client, f"/admin/logs/auditevent/insights/?{query}"),
        "api insights": lambda: _get(client, f"/api/v1/insights/?{query}"),
    }
    figures, sql = {}, {}
    for name, run in runs.items():
        times, sql_times = [], []
        for attempt in range(REPEATS + 1):
            elapsed, in_sql, _ = timed_call(run)
            if attempt:
                times.append(elapsed)
                sql_times.append(in_sql)
        figures[name] = statistics.median(times)
        sql[name] = statistics.median(sql_times)
    return {"rows": figures, "raw": sql, "events": AuditEvent.objects.count()}


def _get(client, url):
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    return response
