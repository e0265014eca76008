"""Log Analytics AuditLogs rows: PascalCase columns and JSON nested in string columns."""

import json

import pytest

from logs.ingest.importer import import_file
from logs.models import AuditEvent
from tests.ingest.test_bad_input import assert_failed_with

pytestmark = pytest.mark.django_db


def row(**overrides):
    values = {
        "TimeGenerated": "2026-11-03T10:00:00.5Z",
        "Id": "Directory_la_1",
        "OperationName": "Add user",
        "Category": "UserManagement",
        "LoggedByService": "Core Directory",
        "ActivityDisplayName": "Add user",
        "ActivityDateTime": "2026-11-03T09:59:59.1234567Z",
        "AADOperationType": "Add",
        "Result": "success",
        "ResultReason": "",
        "CorrelationId": "0f0e0d0c-0b0a-4908-8706-050403020100",
        "InitiatedBy": '{"user":{"id":"u1","displayName":"Ana","userPrincipalName":"ana@x.example",'
        '"ipAddress":"192.0.2.1","roles":[]}}',
        "TargetResources": '[{"id":"t1","displayName":"New Person","type":"User",'
        '"modifiedProperties":[{"displayName":"AccountEnabled","oldValue":"[]",'
        '"newValue":"[true]"}]}]',
        "AdditionalDetails": "[]",
    }
    values.update(overrides)
    return values


def write_lines(path, *rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_dynamic_columns_as_json_text(tmp_path):
    result = import_file(write_lines(tmp_path / "rows.json", row(), row(Id="Directory_la_2")))
    assert (result.format, result.new, result.errors) == ("log-analytics", 2, [])
    event = AuditEvent.objects.get(entra_id="Directory_la_1")
    assert event.activity_datetime.isoformat() == "2026-11-03T09:59:59.123456+00:00"
    assert event.operation_type == "Add"
    assert event.initiator.user_principal_name == "ana@x.example"
    assert event.initiator_ip_address == "192.0.2.1"
    prop = event.targets.get().modified_properties.get()
    assert (prop.name, prop.old_value, prop.new_value) == ("AccountEnabled", "[]", "[true]")


def test_dynamic_columns_as_json_values(tmp_path):
    record = row(
        InitiatedBy={"app": {"appId": "a1", "displayName": "Sync"}},
        TargetResources=[{"id": "t1", "type": "Group", "displayName": "Team"}],
        AdditionalDetails=[],
    )
    path = tmp_path / "list.json"
    path.write_text(json.dumps([record]), encoding="utf-8")
    result = import_file(path)
    assert (result.format, result.new) == ("log-analytics", 1)
    assert AuditEvent.objects.get().initiator.app_display_name == "Sync"


def test_time_generated_stands_in_for_a_missing_activity_time(tmp_path):
    import_file(write_lines(tmp_path / "rows.json", row(ActivityDateTime="")))
    assert (
        AuditEvent.objects.get().activity_datetime.isoformat() == "2026-11-03T10:00:00.500000+00:00"
    )


def test_broken_json_in_a_column_names_the_column(tmp_path):
    path = write_lines(tmp_path / "rows.json", row(), row(TargetResources='[{"id": "t1",'))
    result = import_file(path, strict=True)
    assert_failed_with(result, str(path), "line 2", "field TargetResources", "is not valid JSON")


def test_broken_json_in_a_column_is_noted_and_the_row_stored(tmp_path):
    broken = row(Id="Directory_la_2", TargetResources='[{"id": "t1",')
    path = write_lines(tmp_path / "rows.json", row(), broken)
    result = import_file(path)
    assert (result.new, result.with_notes, result.rejected) == (2, 1, 0)
    event = AuditEvent.objects.get(entra_id=broken["Id"])
    assert event.targets.count() == 0
    [note] = event.notes
    assert note["field"] == "TargetResources"
    assert "is not valid JSON" in note["note"]
    assert note["raw"] == '[{"id": "t1",'


def test_wrong_type_inside_a_column_names_the_column_path(tmp_path):
    path = write_lines(tmp_path / "rows.json", row(), row(TargetResources='[{"id": 7}]'))
    result = import_file(path, strict=True)
    assert_failed_with(result, "line 2", "field TargetResources[0].id", "expected a string")
    path = write_lines(
        tmp_path / "rows.json", row(), row(Id="Directory_la_2", TargetResources='[{"id": 7}]')
    )
    result = import_file(path)
    assert (result.new, result.with_notes) == (2, 1)
    [note] = AuditEvent.objects.exclude(normalisation_notes="").get().notes
    assert note["field"] == "TargetResources[0].id"


def test_query_response_row_with_missing_values(tmp_path):
    columns = ["TimeGenerated", "Id", "ActivityDisplayName", "Category"]
    response = {
        "tables": [
            {
                "name": "PrimaryResult",
                "columns": [{"name": name, "type": "string"} for name in columns],
                "rows": [["2026-11-03T10:00:00Z", "a", "Add user", "UserManagement"], ["x"]],
            }
        ]
    }
    path = tmp_path / "response.json"
    path.write_text(json.dumps(response), encoding="utf-8")
    result = import_file(path)
    assert_failed_with(result, "row 2", "has 1 values but the table has 4 columns")


def test_format_given_that_does_not_fit_the_file(fixtures_dir):
    path = fixtures_dir / "log-analytics" / "AuditLogs-query-export.csv"
    result = import_file(path, format="portal-csv")
    assert result.failed
    assert result.errors == [
        f'{path}, line 1: lacks the columns "Date (UTC)", "Activity"; its header starts '
        "TenantId, SourceSystem, TimeGenerated [UTC], ResourceId, so it is not this format's export"
    ]
