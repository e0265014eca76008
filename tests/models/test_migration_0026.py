"""Migration 0026 moves a database's events into month partitions (PostgreSQL): every row, the
chain, browsing and the API are the same afterwards; going back restores one table."""

from datetime import timedelta

import pytest
from django.db import connection

from logs.ingest.generated import store_generated_records
from logs.ingest.importer import import_file
from logs.integrity import verify_chain
from logs.models import AuditEvent, ChainCheckpoint, ModifiedProperty, Target
from logs.models.events import query_additional_details, query_user_agent
from logs.partitions import existing_months, partitioned
from logs.retention.policy import RetentionPolicy
from logs.retention.run import apply_retention
from tests.factories import GraphDirectoryAuditFactory
from tests.models.support import leaf_nodes, migrate
from tests.support import EVENTS_URL, SIX_EVENTS_FILE

pytestmark = pytest.mark.postgres_only
BEFORE = [("logs", "0025_drop_entra_id_pattern_index")]
PARTITIONED = [("logs", "0026_event_month_partitions")]
CHANGELIST = "/admin/logs/auditevent/"


def event_values() -> list[dict]:
    """Every event's values, with its details and user agent as the values they stand for:
    going back past migrations 0031 and 0032 and forward again stores them anew, under new
    ids."""
    rows = (
        AuditEvent.objects.order_by("pk")
        .annotate(details=query_additional_details(), agent=query_user_agent())
        .values()
    )
    keys = {"details_list_id", "user_agent_id"}
    return [{key: value for key, value in row.items() if key not in keys} for row in rows]


def event_rows() -> list[tuple]:
    """Every column of every event, in id order."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM logs_auditevent ORDER BY id")
        return [
            tuple(bytes(value) if isinstance(value, memoryview) else value for value in row)
            for row in cursor.fetchall()
        ]


def unique_keys() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'logs_auditevent'::regclass AND contype IN ('p', 'u')"
        )
        return dict(cursor.fetchall())


def store_database_at_0025(tmp_path) -> int:
    """Events in several formats and months, two purged by retention (so the chain has a
    checkpoint to carry over), then the schema taken back to 0025; returns how many are stored.

    Stored by today's code at the latest schema (later migrations change what it writes, the
    originals packed by 0027), then migrated back: the rows are those 0025 holds."""
    assert import_file(SIX_EVENTS_FILE).ok
    oldest = AuditEvent.objects.order_by("activity_datetime").first().activity_datetime
    records = [
        GraphDirectoryAuditFactory(moment=oldest - timedelta(days=days)) for days in (40, 70, 100)
    ]
    assert store_generated_records(records, label="older months").new == 3
    second_oldest = oldest - timedelta(days=70)
    now = second_oldest + timedelta(days=365, microseconds=1)
    assert apply_retention(RetentionPolicy(365), archive_dir=tmp_path, now=now).purged == 2
    assert ChainCheckpoint.objects.exists()
    stored = AuditEvent.objects.count()
    migrate(BEFORE)
    return stored


def test_every_event_and_the_chain_come_through_the_migration(
    transactional_db, tmp_path, client, api, reader
):
    try:
        stored = store_database_at_0025(tmp_path)
        assert not partitioned()
        rows = event_rows()
        targets, properties = Target.objects.count(), ModifiedProperty.objects.count()

        migrate(PARTITIONED)

        assert partitioned()
        assert event_rows() == rows
        assert (Target.objects.count(), ModifiedProperty.objects.count()) == (targets, properties)
    finally:
        migrate(leaf_nodes())
    with connection.cursor() as cursor:
        months = existing_months(cursor)
    assert {event.activity_datetime.strftime("%Y%m") for event in AuditEvent.objects.all()} <= {
        month.strftime("%Y%m") for month in months
    }
    verification = verify_chain()
    assert verification.ok, verification.broken or verification.derived
    assert (verification.events, verification.purged) == (stored, 2)
    assert unique_keys()["logs_auditevent_entra_id_key"] == ("UNIQUE (entra_id, activity_datetime)")

    # Browsing, an event's page and the API read the same events.
    client.force_login(reader)
    listing = client.get(CHANGELIST)
    assert listing.status_code == 200
    assert listing.context_data["cl"].result_count == stored
    newest = AuditEvent.objects.order_by("-activity_datetime", "-id").first()
    assert client.get(f"{CHANGELIST}{newest.pk}/change/").status_code == 200
    results = api.get(EVENTS_URL).json()["results"]
    assert results[0]["id"] == newest.pk
    assert len(results) == min(stored, len(results))
    assert {row["id"] for row in results} <= {row[0] for row in rows}

    # New events go on: fresh ids after the old ones, the chain continuing.
    latest_id = max(row[0] for row in rows)
    assert store_generated_records([GraphDirectoryAuditFactory()], label="after").new == 1
    assert AuditEvent.objects.order_by("-id").first().pk > latest_id
    assert verify_chain().ok


def test_going_back_restores_one_table_with_every_event(transactional_db, tmp_path):
    assert partitioned()
    assert import_file(SIX_EVENTS_FILE).ok
    # As read: 0027 packs the originals again on the way forward, naming the dictionary it
    # stores anew, so the stored bytes differ while every value read is the same.
    events = event_values()
    try:
        # At 0026 the originals are as 0025 stores them (0027 packs them); then one table.
        migrate(PARTITIONED)
        partitioned_rows = event_rows()
        migrate(BEFORE)
        assert not partitioned()
        assert event_rows() == partitioned_rows
        assert unique_keys()["logs_auditevent_entra_id_key"] == "UNIQUE (entra_id)"
        assert unique_keys()["logs_auditevent_pkey"] == "PRIMARY KEY (id)"
    finally:
        migrate(leaf_nodes())
    assert partitioned()
    assert event_values() == events
    assert verify_chain().ok
