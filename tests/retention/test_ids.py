"""Selecting a batch's events by id: ranges when the ids run together, a list otherwise; the
same rows either way."""

import pytest
from django.db import connection

from logs.models import AuditEvent, ModifiedProperty, Target
from logs.retention.ids import MAX_RANGES, id_condition, id_ranges, ids_of
from logs.retention.purge import purge_batch
from tests.retention.support import store_events

pytestmark = pytest.mark.django_db


def selected(ids: list[int]) -> list[int]:
    condition, parameters = id_condition("id", ids)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM logs_auditevent WHERE {condition} ORDER BY id", parameters)
        return [row[0] for row in cursor.fetchall()]


def test_ranges_round_trip():
    assert id_ranges([5, 1, 2, 3, 7, 8]) == [[1, 3], [5, 5], [7, 8]]
    assert ids_of([[1, 3], [5, 5], [7, 8]]) == [1, 2, 3, 5, 7, 8]


@pytest.mark.parametrize("step", [1, 2], ids=["runs of ids", "scattered ids"])
def test_exactly_the_listed_events_are_selected(step):
    store_events(*([400] * (2 * MAX_RANGES + 10)))
    stored = sorted(AuditEvent.objects.values_list("id", flat=True))
    # Every other id makes more runs than MAX_RANGES, so the list form is used.
    wanted = stored[1:-1:step]
    condition, _ = id_condition("id", wanted)
    assert ("BETWEEN" in condition) == (step == 1)
    assert selected(wanted) == wanted


def test_runs_with_few_holes_are_a_span_less_its_holes():
    store_events(*([400] * (5 * MAX_RANGES + 10)))
    stored = sorted(AuditEvent.objects.values_list("id", flat=True))
    # Every fifth event kept back (as a legal hold spread through a part would): more runs
    # than MAX_RANGES, few holes.
    wanted = [pk for number, pk in enumerate(stored) if number % 5]
    condition, parameters = id_condition("id", wanted)
    assert condition.count("BETWEEN") == 1
    assert len(parameters) == 3
    assert selected(wanted) == wanted
    assert purge_batch(wanted, "test") == len(wanted)
    assert sorted(AuditEvent.objects.values_list("id", flat=True)) == stored[::5]
    assert set(Target.objects.values_list("event_id", flat=True)) == set(stored[::5])
    assert not ModifiedProperty.objects.exclude(target__event_id__in=stored[::5]).exists()


def test_a_scattered_batch_purges_exactly_its_events():
    store_events(*([400] * (2 * MAX_RANGES + 10)))
    stored = sorted(AuditEvent.objects.values_list("id", flat=True))
    wanted = stored[::2]
    assert purge_batch(wanted, "test") == len(wanted)
    assert sorted(AuditEvent.objects.values_list("id", flat=True)) == stored[1::2]
    kept_targets = set(Target.objects.values_list("event_id", flat=True))
    assert kept_targets == set(stored[1::2])
    assert not ModifiedProperty.objects.exclude(target__event_id__in=stored[1::2]).exists()
