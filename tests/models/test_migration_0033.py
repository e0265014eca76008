"""Migration 0033: on PostgreSQL the target type filter reads the (event, position) index,
which carries the type, and the (event, type) index is gone; SQLite keeps both; going back
restores PostgreSQL's two."""

import re

import pytest
from django.db import IntegrityError, connection, transaction

from logs.filters import AuditEventFilterSet
from logs.models import AuditEvent
from tests.factories import AuditEventFactory, TargetFactory
from tests.models.support import leaf_nodes, migrate

BEFORE = [("logs", "0032_user_agents")]


def target_indexes() -> dict[str, dict]:
    """Each index of the target table: its columns, whether unique, and on PostgreSQL its
    definition."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "logs_target")
        definitions = {}
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'logs_target'"
            )
            definitions = dict(cursor.fetchall())
    return {
        name: {**info, "definition": definitions.get(name, "")}
        for name, info in constraints.items()
        if info["index"] or info["unique"]
    }


@pytest.mark.django_db
def test_each_database_has_the_indexes_its_type_filter_reads():
    indexes = target_indexes()
    position = indexes["target_position_unique"]
    assert position["unique"] and position["columns"][:2] == ["event_id", "position"]
    if connection.vendor == "postgresql":
        assert "target_event_type_idx" not in indexes
        included = r'UNIQUE INDEX .*\(event_id, "?position"?\) INCLUDE \(type\)'
        assert re.search(included, position["definition"]), position
    else:
        assert indexes["target_event_type_idx"]["columns"] == ["event_id", "type"]


@pytest.mark.django_db
def test_an_events_target_position_is_still_unique():
    target = TargetFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        TargetFactory(event=target.event, position=target.position, type="Group")


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_the_type_filter_is_answered_from_the_position_index_alone():
    user = AuditEventFactory()
    TargetFactory(event=user, type="User")
    TargetFactory(event=AuditEventFactory(), type="Group")
    events = AuditEventFilterSet({"target_type": "User"}, queryset=AuditEvent.objects.all()).qs
    assert list(events.values_list("pk", flat=True)) == [user.pk]
    sql, params = events.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE logs_target")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert re.search(r"Index Only Scan using target_position_unique on logs_target", plan), plan


@pytest.mark.postgres_only
def test_going_back_restores_the_type_index(transactional_db):
    leaves = leaf_nodes()
    try:
        migrate(BEFORE)
        indexes = target_indexes()
        assert indexes["target_event_type_idx"]["columns"] == ["event_id", "type"]
        assert "INCLUDE" not in indexes["target_position_unique"]["definition"]
        assert indexes["target_position_unique"]["unique"]
    finally:
        migrate(leaves)
    assert "target_event_type_idx" not in target_indexes()
