"""Azure Monitor exports: the directoryAudit sits in ``properties`` inside Azure's own columns."""

import json

import pytest

from logs.ingest.importer import import_file
from logs.models import AuditEvent
from tests.factories import GraphDirectoryAuditFactory
from tests.ingest.test_bad_input import assert_failed_with

pytestmark = pytest.mark.django_db


def monitor_record(properties, **columns):
    return {
        "time": "2026-11-03T10:00:00.1234567Z",
        "resourceId": "/tenants/11111111-2222-4333-8444-555555555555/providers/Microsoft.aadiam",
        "operationName": properties.get("activityDisplayName", "Update user"),
        "category": "AuditLogs",
        "properties": properties,
        **columns,
    }


def write_records(path, *records):
    path.write_text(json.dumps({"records": list(records)}), encoding="utf-8")
    return path


def test_outer_columns_fill_what_properties_leave_out(tmp_path):
    properties = GraphDirectoryAuditFactory()
    del properties["activityDateTime"]
    properties["activityDisplayName"] = ""
    path = write_records(
        tmp_path / "m.json", monitor_record(properties, operationName="Delete user")
    )
    result = import_file(path)
    assert (result.format, result.new, result.errors) == ("azure-monitor", 1, [])
    event = AuditEvent.objects.get()
    assert event.activity.name == "Delete user"
    assert event.activity_datetime.isoformat() == "2026-11-03T10:00:00.123456+00:00"
    assert json.loads(event.original)["resourceId"].endswith("Microsoft.aadiam")


def test_record_without_properties_is_refused_by_name(tmp_path):
    record = monitor_record({})
    del record["properties"]
    path = write_records(
        tmp_path / "old.json", monitor_record(GraphDirectoryAuditFactory()), record
    )
    result = import_file(path)
    assert_failed_with(result, str(path), "record 2", "field properties", "is missing")


def test_bad_nested_field_is_named_under_properties(tmp_path):
    properties = GraphDirectoryAuditFactory()
    properties["targetResources"][0]["displayName"] = 42
    path = write_records(tmp_path / "bad.json", monitor_record(properties))
    result = import_file(path, strict=True)
    assert_failed_with(result, "record 1", "field properties.targetResources[0].displayName")
    result = import_file(path)
    [note] = AuditEvent.objects.get().notes
    assert (note["field"], note["raw"]) == ("properties.targetResources[0].displayName", "42")


def test_json_lines_blob(tmp_path):
    lines = [json.dumps(monitor_record(GraphDirectoryAuditFactory())) for _ in range(3)]
    path = tmp_path / "PT1H.json"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = import_file(path)
    assert (result.format, result.new) == ("azure-monitor", 3)
