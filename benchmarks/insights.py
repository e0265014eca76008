"""Time of the compliance answers on a populated database (run by ``benchmarks.worker``).

All questions for the 30 days up to the newest event, through ``logs.insights`` (what the API,
the command and the Insights page call), with and without informational events, then the
Insights page and the API endpoint as a request. Median milliseconds over ``REPEATS`` runs
after one warm-up.
"""

import statistics
import time
from datetime import timedelta
from urllib.parse import urlencode

from django.db.models import Max
from django.test import Client

from benchmarks.browse import _superuser
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
    figures = {}
    for name, run in runs.items():
        times = []
        for attempt in range(REPEATS + 1):
            started = time.perf_counter()
            run()
            if attempt:
                times.append((time.perf_counter() - started) * 1000)
        figures[name] = statistics.median(times)
    return {"rows": figures, "events": AuditEvent.objects.count()}


def _get(client, url):
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    return response
