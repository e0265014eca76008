"""``through_index``: a query's own table read through a named index on SQLite, and the SQL
PostgreSQL receives left as it was."""

import pytest
from django.db import connection
from django.db.models.sql.datastructures import BaseTable

from logs.index_hint import IndexedTable, through_index
from logs.models import AuditEvent
from tests.factories import AuditEventFactory, CategoryFactory, InitiatorFactory

pytestmark = pytest.mark.django_db

INDEX = "event_initiator_date_idx"


def plan_of(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return " | ".join(row[-1] for row in cursor.fetchall())


@pytest.fixture
def events():
    wanted, other = CategoryFactory(name="Wanted"), CategoryFactory(name="Other")
    initiators = [InitiatorFactory(), InitiatorFactory(), None]
    return [
        AuditEventFactory(initiator=initiators[n % 3], category=wanted if n % 2 else other)
        for n in range(12)
    ]


def test_the_hint_is_kept_through_filters_values_slices_and_counts(events):
    initiator = events[0].initiator
    plain = AuditEvent.objects.filter(category__name="Wanted")
    hinted = through_index(plain, INDEX)
    chained = hinted.filter(initiator=initiator).values_list("pk", flat=True)
    expected = sorted(plain.filter(initiator=initiator).values_list("pk", flat=True))
    assert sorted(chained) == expected
    assert hinted.filter(initiator=initiator).count() == len(expected)
    assert hinted.filter(initiator=initiator)[:1].exists()
    # The queryset given is left unhinted.
    assert "INDEXED BY" not in str(plain.query)
    if connection.vendor == "sqlite":
        assert f'INDEXED BY "{INDEX}"' in str(chained.query)
        assert f"USING INDEX {INDEX}" in plan_of(hinted.filter(initiator=initiator))
    else:
        assert str(chained.query) == str(
            plain.filter(initiator=initiator).values_list("pk", flat=True).query
        )


def test_a_hinted_query_inside_another_is_relabelled_and_reads_the_same_rows(events):
    """Used as a subquery, the query's aliases are renamed; the hint goes with the table."""
    hinted = through_index(AuditEvent.objects.filter(category__name="Wanted"), INDEX)
    outer = AuditEvent.objects.filter(pk__in=hinted.values("pk")).exclude(initiator=None)
    expected = {event.pk for event in events if event.category.name == "Wanted" and event.initiator}
    assert set(outer.values_list("pk", flat=True)) == expected
    if connection.vendor == "sqlite":
        assert str(outer.query).count("INDEXED BY") == 1


def test_a_table_read_without_conditions_on_the_index_still_answers(events):
    """SQLite reads a named index whole where no condition narrows it, rather than refusing."""
    hinted = through_index(AuditEvent.objects.all(), INDEX)
    assert hinted.count() == len(events)
    assert sorted(hinted.values_list("pk", flat=True)) == sorted(event.pk for event in events)


def test_two_hinted_querysets_combine_into_one_read_through_the_index(events):
    """``|`` merges the two queries' tables: the same table read through the same index is one
    table, so the result reads it once, and holds the rows of either side."""
    first, second = events[0].initiator, events[1].initiator
    hinted = through_index(AuditEvent.objects.all(), INDEX)
    either = hinted.filter(initiator=first) | hinted.filter(initiator=second)
    expected = sorted(event.pk for event in events if event.initiator in (first, second))
    assert sorted(either.values_list("pk", flat=True)) == expected
    if connection.vendor == "sqlite":
        assert str(either.query).count("INDEXED BY") == 1


def test_a_table_read_through_another_index_is_another_table():
    """Django reuses a table already in a query only when it is the same: read through another
    index (or through none), it is not."""
    table = IndexedTable("logs_auditevent", "logs_auditevent", INDEX)
    assert table == IndexedTable("logs_auditevent", "logs_auditevent", INDEX)
    assert hash(table) == hash(IndexedTable("logs_auditevent", "logs_auditevent", INDEX))
    assert table != IndexedTable("logs_auditevent", "logs_auditevent", "event_date_idx")
    assert table != BaseTable("logs_auditevent", "logs_auditevent")
