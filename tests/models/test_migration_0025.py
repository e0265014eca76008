"""Migration 0025 drops the Entra id's ``LIKE`` twin index on PostgreSQL (the unique index
alone answers every lookup of an id); going back restores it."""

import re

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from logs.models import AuditEvent

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite has no pattern-operator indexes"
)
BEFORE = [("logs", "0024_tolerant_import")]


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def event_indexes() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'logs_auditevent'"
        )
        return dict(cursor.fetchall())


def pattern_indexes() -> list[str]:
    return [name for name, text in event_indexes().items() if "pattern_ops" in text]


def test_an_event_is_found_by_its_id_through_the_unique_index(six_events):
    assert pattern_indexes() == []
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE logs_auditevent")
    # Unordered, as the import's duplicate check asks: with the default order, the planner may
    # read an empty month partition along the date index instead, at no cost either way.
    lookup = AuditEvent.objects.filter(entra_id="x").order_by().values("pk")
    sql, params = lookup.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # The unique index, or on the month partitions (migration 0026) each partition's share of
    # it ("logs_auditevent_p202401_entra_id_activity_datetime_key").
    used = re.findall(r"Index (?:Only )?Scan using (\S+)", plan)
    assert used, plan
    assert all("entra_id" in name for name in used), plan


def test_going_back_restores_the_pattern_index(transactional_db):
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        migrate(BEFORE)
        assert len(pattern_indexes()) == 1
    finally:
        migrate(leaves)
    assert pattern_indexes() == []
