"""The shapes of the name filters' queries, which each database plans differently.

Both shapes select the same events, so no list of results tells them apart; what differs is
the plan, which the benchmark (metric ``browse``) measured. These tests pin which shape each
database gets, so that a change of shape is a decision, not an accident.
"""

import re

import pytest
from django.db import connection

from logs.filters import (
    InEvents,
    InIds,
    ids_or_subquery,
    in_ids,
    initiators_matching,
    targets_matching_each,
)
from logs.models import AuditEvent, TargetName
from logs.models.events import informational_flag
from tests.factories import AuditEventFactory, TargetFactory

pytestmark = pytest.mark.django_db


def test_a_name_filter_gathers_ids_on_postgresql_and_keeps_a_subquery_on_sqlite():
    event = AuditEventFactory()
    found = ids_or_subquery(initiators_matching(event.initiator.user_principal_name), "pk")
    if connection.vendor == "postgresql":
        assert found == [event.initiator_id]
    else:
        assert not isinstance(found, list)
        assert list(found) == [{"pk": event.initiator_id}]


def test_a_walk_looks_each_targets_names_up_by_index_on_sqlite_when_they_are_many():
    """Many names (a subquery): SQLite checks each target's two names in the name table; a
    few names (a list) keep ``name IN (...)``. PostgreSQL keeps ``IN`` (hashed sets of the
    names) where every walked event's targets are checked, and looks the names up per
    target where few are (the search box)."""
    TargetName.add(["Sales EMEA"])
    many = TargetName.objects.filter(folded__contains="sales").values_list("name", flat=True)
    walk_of_many = str(targets_matching_each("sales", many).query)
    search_of_many = str(targets_matching_each("sales", many, few_checked=True).query)
    walk_of_few = str(targets_matching_each("sales", ["Sales EMEA"]).query)
    search_of_few = str(targets_matching_each("sales", ["Sales EMEA"], few_checked=True).query)
    correlated = 'U0."name" IN ("logs_target"."display_name"'
    assert correlated not in walk_of_few
    assert correlated not in search_of_few
    assert correlated in search_of_many
    if connection.vendor == "sqlite":
        assert correlated in walk_of_many
    else:
        assert correlated not in walk_of_many


def test_the_search_box_looks_each_targets_names_up_when_they_are_many(monkeypatch):
    """The search box's walk asks for the per-target form; the target filter's does not
    (PostgreSQL) and both find the same events."""
    from logs import filters

    monkeypatch.setattr(filters, "MAX_ID_LIST", 2)
    monkeypatch.setattr(filters, "MAX_NAME_LIST", 1)
    wanted = TargetFactory(display_name="Sales EMEA").event_id
    TargetName.add([f"Sales {number}" for number in range(3)])
    events = AuditEvent.objects.all()
    searched = filters.AuditEventFilterSet({"search": "sales"}, queryset=events).qs
    filtered = filters.AuditEventFilterSet({"target": "sales"}, queryset=events).qs
    assert list(searched.values_list("pk", flat=True)) == [wanted]
    assert list(filtered.values_list("pk", flat=True)) == [wanted]
    correlated = re.compile(r'"name" IN \(\w+\."display_name", \w+\."user_principal_name"\)')
    assert correlated.search(str(searched.query))
    if connection.vendor == "postgresql":
        assert not correlated.search(str(filtered.query))
    else:
        assert correlated.search(str(filtered.query))


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the other databases' refusal")
def test_events_named_with_their_dates_are_written_for_postgresql_only():
    event = AuditEventFactory()
    rows = AuditEvent.objects.filter(InEvents({event.pk: "2024-11-01 00:00:00.000000"}))
    with pytest.raises(NotImplementedError):
        list(rows)


def test_a_listing_looks_the_informational_flag_up_per_row_rather_than_as_exists():
    """PostgreSQL may hash every informational annotation for an ``EXISTS`` in a select list,
    judging by the rows before the page's ``LIMIT``; a scalar subquery it evaluates per row."""
    listing = str(AuditEvent.objects.for_listing().query)
    flag = str(AuditEvent.objects.annotate(flag=informational_flag()).query)
    assert "EXISTS" not in listing.upper()
    assert "LIMIT 1" in flag


def test_a_name_filter_matching_one_initiator_is_a_plain_equality():
    """``= ANY(list)`` keeps PostgreSQL before 17 from reading the (initiator, date) index in
    the listing's order; one id is written as ``=``, several as a list."""
    event, other = AuditEventFactory(), AuditEventFactory()
    one = str(AuditEvent.objects.filter(in_ids("initiator", [event.initiator_id])).query)
    two = AuditEvent.objects.filter(in_ids("initiator", [event.initiator_id, other.initiator_id]))
    assert f'"initiator_id" = {event.initiator_id}' in one
    assert "ANY" not in one.upper() and " IN " not in one.upper()
    assert isinstance(in_ids("initiator", [1, 2]), InIds)
    assert {row.pk for row in two} == {event.pk, other.pk}
