"""Migration 0011 fills in the event copies of targets stored before it, and leaves
PostgreSQL's immutability trigger on targets as it found it."""

from datetime import UTC, datetime

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("logs", "0010_event_day_counts_index")]
AFTER = [("logs", "0011_target_event_copies")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def before_0011(transactional_db):
    apps = migrate(BEFORE)
    yield apps
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_stored_targets_get_their_events_copies(before_0011):
    apps = before_0011
    names = {}
    for model in ["Service", "Category", "Activity"]:
        names[model] = apps.get_model("logs", model).objects.create(name=f"a {model}")
    event = apps.get_model("logs", "AuditEvent").objects.create(
        entra_id="Directory_1",
        activity_datetime=datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC),
        service=names["Service"],
        category=names["Category"],
        activity=names["Activity"],
        result="failure",
        original="{}",
        source_format="graph",
    )
    for position in range(2):
        apps.get_model("logs", "Target").objects.create(
            event=event, position=position, type="User", object_id=f"u{position}"
        )

    apps = migrate(AFTER)

    copies = apps.get_model("logs", "Target").objects.values_list(
        "event_datetime", "event_activity_id", "event_result", "event_service_id"
    )
    expected = (event.activity_datetime, names["Activity"].pk, "failure", names["Service"].pk)
    assert list(copies) == [expected, expected]
    if connection.vendor == "postgresql":
        with (
            pytest.raises(DatabaseError, match="immutable"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("UPDATE logs_target SET event_result = 'success'")
