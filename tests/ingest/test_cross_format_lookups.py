"""How the import finds the same event in another format without an index of every event's
match key (migration 0028): an id-bearing record looks its portal CSV twin up in an index of CSV
rows' keys only, and a CSV row finds its id-bearing twin among the events of its second,
through the date index."""

import json

import pytest
from django.db import connection

from logs.ingest import loader
from logs.ingest.detect import detect
from logs.ingest.formats import PARSERS
from logs.ingest.importer import import_file
from logs.ingest.sources import open_input
from logs.models import Annotation, AuditEvent
from tests.ingest.test_conflicts_and_duplicates import SIX_EVENTS_CSV, SIX_EVENTS_JSON
from tests.support import query_plan

pytestmark = pytest.mark.django_db


def records_of(path) -> list:
    input_file = open_input(path)
    detected = detect(input_file)
    records = list(PARSERS[detected.format](input_file, detected.layout))
    for record in records:
        record.match_key = loader.match_key(record)
    return records


def statements_of(lookup, records) -> list[tuple[str, list]]:
    """The statements ``lookup(records)`` runs, with their parameters."""
    statements = []

    def capture(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        lookup(records)
    return statements


def test_only_portal_csv_rows_have_their_match_key_indexed():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name = 'logs_auditevent'"
            )
        else:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'logs_auditevent'"
            )
        indexes = {name: text or "" for name, text in cursor.fetchall()}
    assert "event_match_key_idx" not in indexes
    definition = indexes["event_csv_match_key_idx"]
    assert "match_key" in definition
    assert "WHERE" in definition and "'portal-csv'" in definition


def test_an_id_bearing_record_finds_csv_rows_through_the_csv_only_index():
    import_file(SIX_EVENTS_CSV)
    records = records_of(SIX_EVENTS_JSON)
    probe, lookup = statements_of(loader._stored_csv_twins, records)
    assert "event_csv_match_key_idx" in query_plan(*probe)
    assert "event_csv_match_key_idx" in query_plan(*lookup)
    assert set(loader._stored_csv_twins(records)) == {record.match_key for record in records}


def test_without_csv_rows_stored_one_probe_of_the_index_answers():
    import_file(SIX_EVENTS_JSON)
    records = records_of(SIX_EVENTS_JSON)
    [probe] = statements_of(loader._stored_csv_twins, records)
    assert "event_csv_match_key_idx" in query_plan(*probe)
    assert loader._stored_csv_twins(records) == {}


def test_a_csv_row_finds_id_bearing_events_of_its_second_through_the_date_index():
    import_file(SIX_EVENTS_JSON)
    records = records_of(SIX_EVENTS_CSV)
    [statement] = statements_of(loader._stored_id_bearing_twins, records)
    found = query_plan(*statement)
    assert "event_date_idx" in found
    assert "event_csv_match_key_idx" not in found


def test_a_csv_row_is_linked_to_its_twin_not_to_another_event_of_the_same_second(tmp_path):
    """Another event in the very second of a CSV row, with another activity and correlation id,
    and a CSV row whose date is a second off its twin's, are not the same event."""
    events = json.loads(SIX_EVENTS_JSON.read_text(encoding="utf-8"))
    first = events[0]
    neighbour = {
        **first,
        "id": "0e6b1c1e-5a1f-4c55-9a0e-000000000001",
        "activityDisplayName": "Delete user",
        "correlationId": "0e6b1c1e-5a1f-4c55-9a0e-0000000000c1",
    }
    path = tmp_path / "with-neighbour.json"
    path.write_text(json.dumps([neighbour, *events]), encoding="utf-8")
    import_file(path)

    result = import_file(SIX_EVENTS_CSV)

    assert result.cross_format == 6
    links = dict(
        Annotation.objects.filter(kind=Annotation.Kind.DUPLICATE).values_list(
            "event_id", "duplicate_of_id"
        )
    )
    twin = AuditEvent.objects.get(entra_id=first["id"]).pk
    other = AuditEvent.objects.get(entra_id=neighbour["id"]).pk
    assert twin in links.values() and other not in links.values()
    assert len(links) == 6


def test_a_csv_row_a_second_off_its_id_bearing_look_alike_is_not_linked(tmp_path):
    events = json.loads(SIX_EVENTS_JSON.read_text(encoding="utf-8"))
    # 08:14:03.1234567 becomes 08:14:04.1234567: the CSV row says 08:14:03.
    moved = {**events[0], "activityDateTime": "2026-11-02T08:14:04.1234567Z"}
    path = tmp_path / "moved.json"
    path.write_text(json.dumps([moved, *events[1:]]), encoding="utf-8")
    import_file(path)
    result = import_file(SIX_EVENTS_CSV)
    assert (result.new, result.cross_format) == (6, 5)
