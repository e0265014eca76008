"""Helpers the tests share: the sample files, the API's and the changelist's addresses, and
what a list response shows. Plain functions and constants; the fixtures are in conftest.py."""

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from django.contrib.auth.models import Permission
from django.db import connection, transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Hypothesis settings for a property test that reads the test database: each example is a few
# queries (so no deadline), and the database fixtures are function-scoped on purpose (the
# examples only read what they set up).
DATABASE_EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Aware date-times at any UTC offset a date-time text can carry, and the ends of Python's
# range at such offsets, where the date has no UTC equivalent (year 1 at +05:00).
_OFFSETS = st.timedeltas(
    min_value=-timedelta(hours=23, minutes=59), max_value=timedelta(hours=23, minutes=59)
)
DATES_AT_ANY_OFFSET = st.one_of(
    st.datetimes(timezones=st.builds(timezone, _OFFSETS)),
    st.builds(
        lambda moment, offset: moment.replace(tzinfo=timezone(offset)),
        st.sampled_from([datetime.min, datetime.max]),
        _OFFSETS,
    ),
)

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures"

SIX_EVENTS_FILE = FIXTURES_DIR / "portal-json" / "AuditLogs_2026-11-02.json"
EVENTS_URL = "/api/v1/events/"
CHANGELIST = "/admin/logs/auditevent/"

# The sample file's events, newest first, by activity name.
SIX_ACTIVITIES_NEWEST_FIRST = [
    "Update policy",
    "Add owner to group",
    "Update application",
    "Reset password (self-service)",
    "Update group",
    "Update user",
]


def view_events_permission():
    return Permission.objects.get(content_type__app_label="logs", codename="view_auditevent")


def listed(response) -> list:
    """The events a changelist response shows, in order."""
    assert response.status_code == 200, response
    return list(response.context_data["cl"].result_list)


def activities(response) -> list[str]:
    """The activity names of the events a changelist page or an API list shows, in order."""
    if getattr(response, "context_data", None) and "cl" in response.context_data:
        return [event.activity.name for event in listed(response)]
    assert response.status_code == 200, response.content
    return [event["activity"] for event in response.json()["results"]]


def with_parent_indexes(cursor, plan: str) -> str:
    """A PostgreSQL plan with, after it, the name of the index each partition's index used in
    it belongs to: on the month partitions (migration 0026) a plan names each partition's share
    of an index ("logs_auditevent_p202401_match_key_idx"), not the index the model declares."""
    used = re.findall(
        r"(?:Index (?:Only )?Scan(?: Backward)? using|Bitmap Index Scan on) (\S+)", plan
    )
    if not used:
        return plan
    cursor.execute(
        "SELECT parent.relname FROM pg_class child "
        "JOIN pg_inherits link ON link.inhrelid = child.oid "
        "JOIN pg_class parent ON parent.oid = link.inhparent "
        "WHERE child.relname = ANY(%s)",
        [used],
    )
    parents = sorted({name for (name,) in cursor.fetchall()})
    return f"{plan} (partition indexes of: {', '.join(parents)})" if parents else plan


def query_plan(sql: str, params=()) -> str:
    """The plan the database would follow for ``sql``: SQLite's query plan, or PostgreSQL's
    with the indexes its partitions' shares belong to named (``with_parent_indexes``). On
    PostgreSQL sequential scans are turned off for the question: a test's small table is
    cheapest to read whole, and the test asks which index the planner would take instead."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            return " ".join(row[3] for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return with_parent_indexes(cursor, " ".join(row[0] for row in cursor.fetchall()))


def sqlite_page_cache_size() -> int:
    """The connection's SQLite page cache as ``PRAGMA cache_size`` reads (negative: KiB)."""
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        return cursor.fetchone()[0]
