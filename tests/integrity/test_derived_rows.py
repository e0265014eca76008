"""verify_audit_log derives each event's targets, modified properties and details again from
its chained original record, and names every difference: a row changed, added or deleted
around auditportal (raw SQL, the immutability triggers switched off, tests.tampering).

Everything the import stores must verify clean: every fixture file, the quick start's demo
data, records stored with normalisation notes, events beside retention's purges.
"""

import json
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from logs.derived_rows import (
    NORMALISERS,
    ChunkEvent,
    DerivedMismatch,
    DerivedRowsCheck,
    Underivable,
    derive,
)
from logs.hash_chain import chain_datetime
from logs.ingest.activity_dates import plausible_activity_datetime
from logs.ingest.errors import FieldError
from logs.ingest.formats import PARSERS
from logs.ingest.generated import store_generated_records
from logs.ingest.importer import import_file
from logs.integrity import verify_chain
from logs.models import AuditEvent, ModifiedProperty, Target
from tests.factories import AuditEventFactory, GraphDirectoryAuditFactory
from tests.ingest.test_azure_monitor import monitor_record
from tests.ingest.test_bad_input import graph_page, write_json
from tests.integrity.test_breaks import NEW, OLD, purge
from tests.retention.support import store_events
from tests.support import FIXTURES_DIR
from tests.tampering import tamper

pytestmark = pytest.mark.django_db

FIXTURE_FILES = sorted(
    str(path.relative_to(FIXTURES_DIR))
    for path in FIXTURES_DIR.rglob("*")
    if path.is_file() and path.suffix in {".json", ".csv"}
)

# The first target of ``an_event`` (position 0) and its properties, then a group (position 1).
FIRST_TARGET = "(SELECT id FROM logs_target WHERE event_id = %s AND position = 0)"


def a_record(number: int = 0) -> dict:
    """A Graph record with two targets, two modified properties and a detail."""
    return GraphDirectoryAuditFactory(
        targetResources=[
            {
                "id": f"5c1f8c0a-0000-4000-8000-{number:012d}",
                "type": "User",
                "displayName": "Adele Vance",
                "userPrincipalName": "adele.vance@contoso.example",
                "groupType": None,
                "modifiedProperties": [
                    {"displayName": "AccountEnabled", "oldValue": "[true]", "newValue": "[false]"},
                    {"displayName": "DisplayName", "oldValue": None, "newValue": '["Adele"]'},
                ],
            },
            {
                "id": f"7d2e9b1b-0000-4000-8000-{number:012d}",
                "type": "Group",
                "displayName": "Sales",
                "groupType": "unifiedGroups",
                "modifiedProperties": [],
            },
        ],
        additionalDetails=[{"key": "User-Agent", "value": "Mozilla/5.0"}],
    )


def store(*records) -> list[int]:
    result = store_generated_records(list(records), label="derived rows test")
    assert result.new == len(records), result.errors
    ids = [record["id"] for record in records]
    return [AuditEvent.objects.get(entra_id=entra_id).pk for entra_id in ids]


def verify() -> str:
    out = StringIO()
    call_command("verify_audit_log", stdout=out)
    return out.getvalue()


def command_failure() -> tuple[str, str]:
    """The command's error and what it wrote to stderr."""
    err = StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit_log", stdout=StringIO(), stderr=err)
    return str(failure.value), err.getvalue()


# Nothing changed: everything the import stores verifies ------------------------------------


def test_unchanged_events_verify_and_their_rows_are_counted():
    store(a_record(1), a_record(2), a_record(3))
    result = verify_chain()
    assert result.ok, result.derived
    assert (result.events, result.targets, result.properties) == (3, 6, 6)
    assert (result.targets, result.properties) == (
        Target.objects.count(),
        ModifiedProperty.objects.count(),
    )
    assert "; 6 targets and 6 modified properties as their originals give them;" in verify()


def test_an_empty_database_has_no_rows_to_compare():
    result = verify_chain()
    assert (result.ok, result.events, result.targets, result.properties) == (True, 0, 0, 0)
    assert "; 0 targets and 0 modified properties as their originals give them;" in verify()


@pytest.mark.parametrize("path", FIXTURE_FILES)
def test_every_fixture_file_imports_and_verifies(path):
    result = import_file(FIXTURES_DIR / path)
    assert result.new and not result.failed and not result.rejected, result.errors
    verification = verify_chain()
    assert verification.ok, verification.derived or verification.broken
    assert verification.targets == Target.objects.count()
    assert verification.properties == ModifiedProperty.objects.count()


def test_the_quick_start_sample_data_verifies():
    """What ``quickstart serve`` loads: every fixture file, then generated demo events."""
    for path in FIXTURE_FILES:
        import_file(FIXTURES_DIR / path)
    call_command("seed_demo_data", "--events", "300", "--seed", "1", stdout=StringIO())
    assert Target.objects.filter(modified_properties__isnull=False).exists()
    assert verify().startswith(f"OK {AuditEvent.objects.count()} events")


def test_records_stored_with_normalisation_notes_verify(tmp_path):
    """A tolerant import stores what does not fit as empty or null with a note; deriving again
    gives the same empty values."""
    odd = a_record(1)
    odd["result"] = "maybe"
    odd["targetResources"][0]["displayName"] = 42
    odd["targetResources"][0]["modifiedProperties"][0]["newValue"] = {"enabled": False}
    odd["targetResources"][1]["type"] = "x" * 65  # longer than the column
    odd["additionalDetails"].append({"key": "Attempts", "value": 3})
    alone = a_record(2)
    alone["targetResources"] = alone["targetResources"][0]  # one object where a list belongs
    no_offset = a_record(3)
    no_offset["activityDateTime"] = no_offset["activityDateTime"].rstrip("Z")
    result = import_file(write_json(tmp_path / "odd.json", graph_page(odd, alone, no_offset)))
    assert (result.new, result.with_notes) == (3, 3), result.errors
    event = AuditEvent.objects.get(entra_id=odd["id"])
    assert event.targets.get(position=0).display_name == ""
    # Through a normaliser of its own, with a note strict mode refuses (a numeric result).
    numeric = a_record(4)
    numeric["result"] = 0
    monitored = import_file(write_json(tmp_path / "m.json", {"records": [monitor_record(numeric)]}))
    assert (monitored.format, monitored.with_notes) == ("azure-monitor", 1), monitored.errors
    verification = verify_chain()
    assert verification.ok, verification.derived
    assert verification.targets == 7  # the record with one target object where a list belongs


def test_records_in_every_other_way_of_importing_verify(tmp_path):
    """NDJSON, a strict import, and a file parsed in a second process."""
    ndjson = tmp_path / "events.ndjson"
    ndjson.write_text(json.dumps(a_record(1)) + "\n" + json.dumps(a_record(2)) + "\n")
    assert import_file(ndjson).format == "ndjson"
    assert import_file(write_json(tmp_path / "s.json", graph_page(a_record(3))), strict=True).new
    parallel = import_file(write_json(tmp_path / "p.json", graph_page(a_record(4))), parallel=True)
    assert parallel.new == 1, parallel.errors
    verification = verify_chain()
    assert (verification.ok, verification.events, verification.targets) == (True, 4, 8)


def test_events_beside_purged_ones_verify_and_are_still_checked():
    store_events(OLD, NEW, OLD, NEW)
    purge()
    kept = sorted(AuditEvent.objects.values_list("pk", flat=True))
    assert len(kept) == 2
    result = verify_chain()
    assert (result.ok, result.purged) == (True, 2)
    tamper("UPDATE logs_target SET display_name = 'Nobody' WHERE event_id = %s", [kept[1]])
    assert verify_chain().derived == [
        DerivedMismatch("modified", "target display_name", [kept[1]], 1)
    ]


def test_dates_outside_todays_bounds_still_derive(settings):
    """The bounds on activity dates move with the clock and the settings; a stored event's
    rows are derived again whatever they are now, and the bounds hold again afterwards."""
    store(a_record(1))
    settings.AUDITPORTAL_EARLIEST_ACTIVITY_DATE = datetime(2100, 1, 1, tzinfo=UTC)
    assert verify_chain().ok
    with pytest.raises(FieldError, match="earliest activity date"):
        plausible_activity_datetime(datetime(2024, 1, 1, tzinfo=UTC), "activityDateTime")


def test_every_import_format_has_its_normaliser():
    assert set(NORMALISERS) == set(PARSERS)


# Changed around auditportal: each difference named, with the event and the field -----------


@pytest.mark.parametrize(
    ("sql", "kind", "field"),
    [
        (
            "UPDATE logs_target SET display_name = 'Nobody' WHERE event_id = %s AND position = 0",
            "modified",
            "target display_name",
        ),
        (
            "UPDATE logs_target SET type = 'Device' WHERE event_id = %s AND position = 0",
            "modified",
            "target type",
        ),
        (
            "UPDATE logs_target SET user_principal_name = 'nobody@contoso.example' "
            "WHERE event_id = %s AND position = 0",
            "modified",
            "target user_principal_name",
        ),
        (
            "UPDATE logs_target SET object_id = 'other' WHERE event_id = %s AND position = 1",
            "modified",
            "target object_id",
        ),
        (
            "UPDATE logs_target SET group_type = '' WHERE event_id = %s AND position = 1",
            "modified",
            "target group_type",
        ),
        (
            "UPDATE logs_target SET event_result = 'failure' WHERE event_id = %s AND position = 1",
            "modified",
            "target event_result",
        ),
        (
            "UPDATE logs_target SET event_datetime = NULL WHERE event_id = %s AND position = 0",
            "modified",
            "target event_datetime",
        ),
        (
            f"UPDATE logs_modifiedproperty SET old_value = '[false]' "
            f"WHERE target_id = {FIRST_TARGET} AND position = 0",
            "modified",
            "modified property old_value",
        ),
        (
            f"UPDATE logs_modifiedproperty SET new_value = '[true]' "
            f"WHERE target_id = {FIRST_TARGET} AND position = 0",
            "modified",
            "modified property new_value",
        ),
        (
            # null and "" differ in the source, and so they do here.
            f"UPDATE logs_modifiedproperty SET old_value = '' "
            f"WHERE target_id = {FIRST_TARGET} AND position = 1",
            "modified",
            "modified property old_value",
        ),
        (
            f"UPDATE logs_modifiedproperty SET name = 'Department' "
            f"WHERE target_id = {FIRST_TARGET} AND position = 1",
            "modified",
            "modified property name",
        ),
        (
            f"DELETE FROM logs_modifiedproperty WHERE target_id = {FIRST_TARGET} AND position = 1",
            "missing",
            "modified property",
        ),
        (
            "INSERT INTO logs_modifiedproperty (target_id, position, name, old_value, new_value) "
            "SELECT id, 2, 'AccountEnabled', '[false]', '[true]' FROM logs_target "
            "WHERE event_id = %s AND position = 0",
            "inserted",
            "modified property",
        ),
        (
            "INSERT INTO logs_target (event_id, position, type, object_id, display_name, "
            "user_principal_name, group_type, event_datetime, event_activity_id, event_result, "
            "event_service_id) SELECT event_id, 2, 'User', 'planted', 'Mallory', '', '', "
            "event_datetime, event_activity_id, event_result, event_service_id FROM logs_target "
            "WHERE event_id = %s AND position = 0",
            "inserted",
            "target",
        ),
        (
            "DELETE FROM logs_target WHERE event_id = %s AND position = 1",
            "missing",
            "target",
        ),
        (
            "UPDATE logs_auditevent SET details_list_id = NULL WHERE id = %s",
            "modified",
            "additional_details",
        ),
    ],
)
def test_a_change_is_reported_with_its_event_and_field(sql, kind, field):
    _, changed, _ = store(a_record(1), a_record(2), a_record(3))
    tamper(sql, [changed])

    result = verify_chain()

    assert not result.ok
    assert result.broken is None  # the chain itself is intact: the derived rows changed
    assert result.events == 3
    assert result.derived == [DerivedMismatch(kind, field, [changed], 1)]
    message, stderr = command_failure()
    assert message.startswith("BROKEN: 1 difference(s) between the rows derived from the original")
    expected = f"{kind}: 1 event (event ids {changed}): "
    assert expected in message
    assert f"{expected}{'a' if kind != 'modified' else 'the'} {field} " in stderr


def test_an_event_pointed_at_another_stored_details_list_is_reported():
    other = a_record(2)
    other["additionalDetails"] = [{"key": "User-Agent", "value": "curl/8.0"}]
    changed, _ = store(a_record(1), other)
    tamper(
        "UPDATE logs_auditevent SET details_list_id = "
        "(SELECT id FROM logs_detailslist WHERE id <> details_list_id) WHERE id = %s",
        [changed],
    )

    result = verify_chain()

    assert result.broken is None
    assert result.derived == [DerivedMismatch("modified", "additional_details", [changed], 1)]


def test_several_fields_and_events_are_each_named_with_the_first_five_and_a_count():
    events = store(*[a_record(number) for number in range(7)])
    tamper("UPDATE logs_target SET display_name = 'Nobody' WHERE position = 0")
    tamper(f"DELETE FROM logs_modifiedproperty WHERE target_id = {FIRST_TARGET}", [events[6]])

    result = verify_chain()

    assert result.derived == [
        DerivedMismatch("modified", "target display_name", events[:5], 7),
        DerivedMismatch("missing", "modified property", [events[6]], 1),
    ]
    ids = ", ".join(map(str, events[:5]))
    assert str(result.derived[0]) == (
        f"modified: 7 events (event ids {ids}, ...): the target display_name stored does not "
        "match what the event's original record gives: it was changed outside auditportal"
    )
    message, stderr = command_failure()
    assert "BROKEN: 2 difference(s)" in message
    assert stderr.splitlines()[-2:] == [str(mismatch) for mismatch in result.derived]


def test_every_difference_of_one_event_is_named_not_only_the_first():
    _, changed, _ = store(a_record(1), a_record(2), a_record(3))
    tamper(f"DELETE FROM logs_modifiedproperty WHERE target_id = {FIRST_TARGET}", [changed])
    tamper("DELETE FROM logs_target WHERE event_id = %s AND position = 0", [changed])
    tamper("UPDATE logs_target SET display_name = 'Nobody' WHERE event_id = %s", [changed])
    assert verify_chain().derived == [
        DerivedMismatch("missing", "target", [changed], 1),
        DerivedMismatch("modified", "target display_name", [changed], 1),
    ]


def test_a_property_missing_before_a_changed_one_names_both():
    _, changed, _ = store(a_record(1), a_record(2), a_record(3))
    properties = f"DELETE FROM logs_modifiedproperty WHERE target_id = {FIRST_TARGET}"
    tamper(f"{properties} AND position = 0", [changed])
    tamper(
        f"UPDATE logs_modifiedproperty SET new_value = NULL WHERE target_id = {FIRST_TARGET}",
        [changed],
    )
    assert verify_chain().derived == [
        DerivedMismatch("missing", "modified property", [changed], 1),
        DerivedMismatch("modified", "modified property new_value", [changed], 1),
    ]


def test_a_chain_break_is_reported_first_and_the_differences_before_it_too():
    events = store(a_record(1), a_record(2))
    tamper("UPDATE logs_target SET type = 'Device' WHERE event_id = %s", [events[0]])
    tamper("UPDATE logs_auditevent SET result_reason = 'x' WHERE id = %s", [events[1]])
    message, stderr = command_failure()
    assert message.startswith("BROKEN after 1 events: modified: seq 2")
    assert f"modified: 1 event (event ids {events[0]}): the target type stored" in stderr


def test_an_event_whose_original_cannot_be_read_is_reported():
    event = AuditEventFactory(source_format="carrier-pigeon")
    assert verify_chain().derived == [
        DerivedMismatch(
            "unreadable",
            "original",
            [event.pk],
            1,
            reason="no parser reads the source format 'carrier-pigeon'",
        )
    ]
    with pytest.raises(Underivable, match="not JSON"):
        derive("graph", "{not json")


def test_an_original_its_normaliser_refuses_is_reported_with_the_field():
    event = AuditEventFactory(source_format="azure-monitor")
    [mismatch] = verify_chain().derived
    assert (mismatch.kind, mismatch.event_ids) == ("unreadable", [event.pk])
    assert mismatch.reason.startswith("properties: is missing")
    assert str(mismatch).startswith(
        f"unreadable: 1 event (event ids {event.pk}): the original record can no longer be read "
        "as the import read it (properties: is missing"
    )


# A purge while the chain is walked ----------------------------------------------------------


def chunk_of_all_events() -> list[ChunkEvent]:
    """The events as the walk reads them (in id order)."""
    return [
        ChunkEvent(
            event.pk,
            chain_datetime(event.activity_datetime),
            event.service_id,
            event.activity_id,
            event.result,
            event.source_format,
            event.original,
            json.dumps(event.additional_details),
        )
        for event in AuditEvent.objects.order_by("pk")
    ]


def test_rows_purged_after_their_event_was_read_are_not_a_difference():
    store_events(OLD, NEW)
    chunk = chunk_of_all_events()
    purge()
    check = DerivedRowsCheck()
    check.check_chunk(chunk)
    assert check.mismatches == []
    assert check.targets == Target.objects.count() > 0


def test_rows_deleted_while_their_event_stays_are_a_difference():
    store_events(OLD, NEW)
    chunk = chunk_of_all_events()
    old = chunk[0].pk
    tamper(
        "DELETE FROM logs_modifiedproperty WHERE target_id IN "
        "(SELECT id FROM logs_target WHERE event_id = %s)",
        [old],
    )
    tamper("DELETE FROM logs_target WHERE event_id = %s", [old])
    check = DerivedRowsCheck()
    check.check_chunk(chunk)
    assert check.mismatches == [DerivedMismatch("missing", "target", [old], 1)]
