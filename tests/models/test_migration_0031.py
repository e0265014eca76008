"""Migration 0031 stores each distinct ``additionalDetails`` list once (``DetailsList``) and
gives events a key to it; going back writes each event's list into its row again. What every
event shows is the same before and after, the lists are sealed, the chain and the derived rows
verify, and the triggers still refuse changes, on both databases."""

import orjson
import pytest
from django.db import connection, transaction

from logs.ingest.generated import store_generated_records
from logs.integrity import verify_chain
from logs.models import AuditEvent, DetailsList
from logs.models.events import query_additional_details
from logs.models.lookups import details_text, text_digest
from tests.factories import GraphDirectoryAuditFactory
from tests.models.support import (
    assert_refused,
    import_every_fixture,
    leaf_nodes,
    migrate,
    read_before,
)
from tests.tampering import switch_off_immutability_triggers, switch_on_immutability_triggers

BEFORE = [("logs", "0030_ordering_by_event_ids")]
DETAILS = [
    [{"key": "User-Agent", "value": "Mozilla/5.0"}],
    [{"value": "Member", "key": "UserType"}, {"key": "count", "value": 3}],
    [{"key": "User-Agent", "value": "Mozilla/5.0"}],
    [{"key": "Straße", "value": "\u00e9t\u00e9 \U0001f600"}],
]


def shown_details() -> dict[int, list]:
    return dict(
        AuditEvent.objects.annotate(details=query_additional_details()).values_list("pk", "details")
    )


def stored_columns() -> dict[int, object]:
    """Each event's ``additional_details`` column as migration 0030 left it, parsed."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, additional_details FROM logs_auditevent")
        return {pk: orjson.loads(text) for pk, text in cursor.fetchall()}


def store_every_fixture_and_some_details() -> dict[int, list]:
    import_every_fixture()
    records = [GraphDirectoryAuditFactory(additionalDetails=details) for details in DETAILS]
    assert store_generated_records(records, label="details").new == len(DETAILS)
    shown = shown_details()
    assert len(shown) > 60
    assert sum(1 for details in shown.values() if details) > 10
    assert sum(1 for details in shown.values() if not details) > 10
    return shown


def test_each_event_shows_the_same_details_after_going_back_and_forward(transactional_db):
    shown = store_every_fixture_and_some_details()
    assert read_before(BEFORE, stored_columns) == shown
    assert shown_details() == shown
    assert {event.pk: event.additional_details for event in AuditEvent.objects.all()} == shown
    # One row per distinct list, under its canonical digest; none for an empty list.
    distinct = {details_text(details) for details in shown.values() if details}
    rows = list(DetailsList.objects.all())
    assert {details_text(row.entries) for row in rows} == distinct
    assert {row.digest for row in rows} == {text_digest(text) for text in distinct}
    assert AuditEvent.objects.filter(details_list=None).count() == sum(
        1 for details in shown.values() if not details
    )
    result = verify_chain()
    assert result.ok, (result.broken, result.derived)
    assert_refused(
        "UPDATE logs_auditevent SET details_list_id = NULL",
        "UPDATE logs_detailslist SET entries = '[]'",
        "DELETE FROM logs_detailslist",
    )


def test_after_the_migration_an_import_shares_the_migrated_lists(transactional_db):
    shown = store_every_fixture_and_some_details()
    leaves = leaf_nodes()
    migrate(BEFORE)
    migrate(leaves)
    lists = DetailsList.objects.count()
    records = [GraphDirectoryAuditFactory(additionalDetails=details) for details in DETAILS]
    assert store_generated_records(records, label="details again").new == len(DETAILS)
    assert DetailsList.objects.count() == lists
    new = AuditEvent.objects.exclude(pk__in=shown).order_by("pk")
    # As the same records stored before the migration show them (the importer keeps a detail's
    # value only if it is text).
    before = [shown[pk] for pk in sorted(shown)[-len(DETAILS) :]]
    assert before[1] == [{"key": "UserType", "value": "Member"}, {"key": "count", "value": None}]
    assert [event.additional_details for event in new.select_related("details_list")] == before
    assert verify_chain().ok


def write_around_the_triggers(sql: str, parameters) -> None:
    """A change made around auditportal at migration 0030, the triggers back on after it."""
    with transaction.atomic():
        switch_off_immutability_triggers()
        with connection.cursor() as cursor:
            cursor.execute(sql, parameters)
        switch_on_immutability_triggers()


def two_events() -> tuple[int, int]:
    records = [GraphDirectoryAuditFactory(additionalDetails=[]) for _ in range(2)]
    assert store_generated_records(records, label="two").new == 2
    first, second = AuditEvent.objects.order_by("pk").values_list("pk", flat=True)
    return first, second


def test_values_that_read_as_the_same_json_share_a_row_and_none_is_lost(transactional_db):
    leaves = leaf_nodes()
    first, second = two_events()
    try:
        migrate(BEFORE)
        # Apart as stored (PostgreSQL's jsonb keeps every digit), the same once read.
        for pk, number in ((first, "0.1"), (second, "0.10000000000000000001")):
            write_around_the_triggers(
                "UPDATE logs_auditevent SET additional_details = %s WHERE id = %s",
                [f'[{{"key": "ratio", "value": {number}}}]', pk],
            )
    finally:
        migrate(leaves)
    keys = dict(AuditEvent.objects.values_list("pk", "details_list_id"))
    assert keys[first] is not None and keys[first] == keys[second]
    assert DetailsList.objects.get().entries[0]["value"] == pytest.approx(0.1)


def test_a_value_that_cannot_be_read_stops_the_migration_naming_an_event(transactional_db):
    leaves = leaf_nodes()
    _, second = two_events()
    try:
        migrate(BEFORE)
        write_around_the_triggers(
            "UPDATE logs_auditevent SET additional_details = %s WHERE id = %s",
            ['[{"key": "huge", "value": 1e400}]', second],
        )
        with pytest.raises(ValueError, match=rf"event {second}: its additional_details cannot"):
            migrate(leaves)
        # Nothing was migrated: the event still holds its value in its own column.
        with connection.cursor() as cursor:
            cursor.execute("SELECT additional_details FROM logs_auditevent WHERE id = %s", [second])
            assert "huge" in cursor.fetchone()[0]
    finally:
        write_around_the_triggers(
            "UPDATE logs_auditevent SET additional_details = '[]' WHERE id = %s", [second]
        )
        migrate(leaves)
    assert not DetailsList.objects.exists()
