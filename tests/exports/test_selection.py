"""Reading an export: every filtered event once, in keyset chunks, capped at the newest N."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from logs.exports import Export, portal_copy
from logs.exports.selection import iter_event_rows
from logs.filters import AuditEventFilterSet
from logs.models import AuditEvent
from tests.factories import (
    AuditEventFactory,
    CategoryFactory,
    ModifiedPropertyFactory,
    TargetFactory,
)

pytestmark = pytest.mark.django_db

START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def events():
    """Eleven events; three share one date (keyset ties are broken by id)."""
    made = [AuditEventFactory(activity_datetime=START + timedelta(hours=n)) for n in range(8)]
    made += [AuditEventFactory(activity_datetime=START + timedelta(hours=3)) for _ in range(3)]
    for event in made:
        target = TargetFactory(event=event)
        ModifiedPropertyFactory(target=target)
    return made


def keys(chunks) -> list[str]:
    return [event.entra_id for chunk in chunks for event in chunk]


def newest_first(queryset) -> list[str]:
    return list(queryset.order_by("-activity_datetime", "-id").values_list("entra_id", flat=True))


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 11, 100])
def test_every_event_once_in_listing_order_whatever_the_chunk(events, chunk_size):
    chunks = list(iter_event_rows(AuditEvent.objects.all(), chunk_size=chunk_size))
    assert keys(chunks) == newest_first(AuditEvent.objects.all())
    assert all(len(chunk) <= chunk_size for chunk in chunks)


def test_oldest_first(events):
    chunks = iter_event_rows(AuditEvent.objects.all(), oldest_first=True, chunk_size=2)
    assert keys(chunks) == newest_first(AuditEvent.objects.all())[::-1]


def test_exported_rows_are_the_filtered_rows(events):
    other = CategoryFactory(name="GroupManagement")
    for event in events[:4]:
        AuditEventFactory(activity_datetime=event.activity_datetime, category=other)
    filterset = AuditEventFilterSet(data={"category": "GroupManagement"})
    assert filterset.is_valid()
    chunks = iter_event_rows(filterset.qs, chunk_size=3)
    assert keys(chunks) == newest_first(AuditEvent.objects.filter(category=other))


@pytest.mark.parametrize("oldest_first", [False, True])
def test_a_cap_keeps_the_newest_events(events, oldest_first):
    export = Export(AuditEvent.objects.all(), "ndjson", limit=4, oldest_first=oldest_first)
    ids = [json.loads(line)["id"] for line in "".join(export).splitlines()]
    newest = newest_first(AuditEvent.objects.all())[:4]
    assert ids == (newest[::-1] if oldest_first else newest)
    assert export.rows_written == 4 and export.truncated


def test_no_cap_reached_is_not_truncated(events):
    export = Export(AuditEvent.objects.all(), "csv", limit=11)
    "".join(export)
    assert export.rows_written == 11 and not export.truncated and export.finished


def test_queries_per_chunk_are_fixed(events):
    with CaptureQueriesContext(connection) as small:
        list(iter_event_rows(AuditEvent.objects.all(), chunk_size=11))
    for _ in range(20):
        TargetFactory(event=AuditEventFactory(activity_datetime=START), display_name="x")
    with CaptureQueriesContext(connection) as large:
        list(iter_event_rows(AuditEvent.objects.all(), chunk_size=31))
    # One chunk each: events, targets, modified properties, and the query that finds no more.
    assert len(small) == len(large) == 4


def test_the_first_chunk_is_written_before_the_rest_is_read(events, monkeypatch):
    # The keyset path; on PostgreSQL the portal form is one COPY (see test_portal_copy.py).
    monkeypatch.setattr(portal_copy, "is_available", lambda connection: False)
    export = iter(Export(AuditEvent.objects.all(), "csv", chunk_size=2))
    with CaptureQueriesContext(connection) as queries:
        header, first = next(export), next(export)
    assert header.startswith("\ufeff") and first.count("\r\n") == 2
    event_queries = [q for q in queries if 'FROM "logs_auditevent"' in q["sql"]]
    assert len(event_queries) == 1, "only the first chunk has been read"
    with CaptureQueriesContext(connection) as rest:
        list(export)
    assert len([q for q in rest if 'FROM "logs_auditevent"' in q["sql"]]) == 5
