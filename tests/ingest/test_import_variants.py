"""What real exports contain, each variant built from its published shape: stored verbatim,
normalised where the meaning is certain, otherwise kept empty with a note; ``strict`` refuses."""

import json

import pytest
from django.db import connection, transaction

from logs.ingest.formats.azure_monitor import OLDER_SCHEMA_ID_PREFIX
from logs.ingest.formats.log_analytics import ID_PREFIX as LOG_ANALYTICS_ID_PREFIX
from logs.ingest.importer import import_file
from logs.integrity import verify_chain
from logs.models import AuditEvent
from tests.factories import GraphDirectoryAuditFactory
from tests.ingest.test_azure_monitor import monitor_record
from tests.ingest.test_bad_input import assert_failed_with, graph_page, write_json
from tests.integrity.test_chain import raw
from tests.tampering import switch_off_immutability_triggers

pytestmark = pytest.mark.django_db


def write_lines(path, *records):
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


# Azure Monitor -------------------------------------------------------------------------------


def test_numeric_result_is_read_as_graphs_enumeration_with_a_note(tmp_path):
    properties = GraphDirectoryAuditFactory(result=0)
    failed = GraphDirectoryAuditFactory(result=1)
    path = write_json(
        tmp_path / "m.json", {"records": [monitor_record(properties), monitor_record(failed)]}
    )
    assert_failed_with(
        import_file(path, strict=True),
        "record 1, field properties.result: expected a string, got a number",
    )
    result = import_file(path)
    assert (result.new, result.with_notes, result.rejected) == (2, 2, 0)
    event = AuditEvent.objects.get(entra_id=properties["id"])
    assert event.result == "success"
    [note] = event.notes
    assert (note["field"], note["raw"]) == ("properties.result", "0")
    assert "'success'" in note["note"]
    assert AuditEvent.objects.get(entra_id=failed["id"]).result == "failure"


@pytest.mark.parametrize("level", [4, "4", "Informational"])
def test_level_as_number_or_text_is_kept_in_the_original(tmp_path, level):
    record = monitor_record(GraphDirectoryAuditFactory(), Level=level, level=level)
    path = write_json(tmp_path / "m.json", {"records": [record]})
    result = import_file(path, strict=True)
    assert (result.new, result.with_notes) == (1, 0)
    assert json.loads(AuditEvent.objects.get().original)["Level"] == level


def test_empty_initiated_by_and_null_caller_address(tmp_path):
    properties = GraphDirectoryAuditFactory(initiatedBy={})
    record = monitor_record(properties, callerIpAddress="<null>")
    path = write_lines(tmp_path / "PT1H.json", record, monitor_record(GraphDirectoryAuditFactory()))
    result = import_file(path)
    assert (result.format, result.new, result.with_notes, result.rejected) == (
        "azure-monitor",
        2,
        0,
        0,
    )
    event = AuditEvent.objects.get(entra_id=properties["id"])
    assert (event.initiator, event.initiator_ip_address) == (None, "")


def test_one_record_alone_without_the_records_wrapper(tmp_path):
    properties = GraphDirectoryAuditFactory()
    path = write_json(tmp_path / "one.json", monitor_record(properties))
    result = import_file(path)
    assert (result.format, result.new) == ("azure-monitor", 1)
    assert AuditEvent.objects.get().entra_id == properties["id"]


# The older Azure Monitor audit-log schema, as Microsoft's reference shows its two examples.
OLDER_USER_RECORD = {
    "time": "2018-03-17T00:14:31.2585575Z",
    "operationName": "Change password (self-service)",
    "operationVersion": "1.0",
    "category": "Audit",
    "tenantId": "bf85dc9d-cb43-44a4-80c4-469e8c58249e",
    "resultType": "Success",
    "resultSignature": "-1",
    "resultDescription": "None",
    "durationMs": "-1",
    "correlationId": "60d5e89a-b890-413f-9e25-a047734afe9f",
    "identity": "sreens@wingtiptoysonline.com",
    "Level": "Informational",
    "location": "WUS",
    "properties": {
        "identityType": "UPN",
        "operationType": "Update",
        "additionalDetails": "None",
        "additionalTargets": "",
        "targetUpdatedProperties": "",
        "targetResourceType": "UPN__TenantContextID__PUID__ObjectID__ObjectClass",
        "targetResourceName": "sreens@wingtiptoysonline.com__bf85dc9d-cb43-44a4-80c4-469e8c58249e"
        "__1003BFFD9FEB17DB__7a408bdd-7d97-4574-8511-dd747b56465d__User",
        "auditEventCategory": "UserManagement",
    },
}
OLDER_APP_RECORD = {
    "time": "2018-03-18T19:47:43.0368859Z",
    "operationName": "Update service principal.",
    "operationVersion": "1.0",
    "category": "Audit",
    "tenantId": "bf85dc9d-cb43-44a4-80c4-469e8c58249e",
    "resultType": "Success",
    "resultSignature": "-1",
    "durationMs": "-1",
    "callerIpAddress": "<null>",
    "correlationId": "14916c7a-5a7d-44e8-9b06-74b49efb08ee",
    "identity": "NA",
    "Level": "Informational",
    "properties": {
        "identityType": "NA",
        "operationType": "Update",
        "additionalDetails": {},
        "additionalTargets": "",
        "targetUpdatedProperties": [
            {"Name": "Included Updated Properties", "OldValue": None, "NewValue": ""},
            {
                "Name": "TargetId.ServicePrincipalNames",
                "OldValue": None,
                "NewValue": "http://adapplicationregistry.onmicrosoft.com/salesforce.com/primary",
            },
        ],
        "targetResourceType": "Other__ObjectID__ObjectClass__Name__AppId__SPN",
        "targetResourceName": "ServicePrincipal_ea70a262-4da3-440a-b396-9734ddfd9df2"
        "__ea70a262-4da3-440a-b396-9734ddfd9df2__ServicePrincipal__Salesforce"
        "__cd3ed3de-93ee-400b-8b19-b61ef44a0f29"
        "__http://adapplicationregistry.onmicrosoft.com/salesforce.com/primary",
        "auditEventCategory": "ApplicationManagement",
    },
}


def test_older_audit_schema_is_mapped_where_certain(tmp_path):
    path = write_json(tmp_path / "old.json", {"records": [OLDER_USER_RECORD, OLDER_APP_RECORD]})
    result = import_file(path)
    assert (result.format, result.read, result.new, result.rejected) == ("azure-monitor", 2, 2, 0)
    user_change = AuditEvent.objects.get(activity__name="Change password (self-service)")
    assert user_change.entra_id.startswith(OLDER_SCHEMA_ID_PREFIX)
    assert user_change.activity_datetime.isoformat() == "2018-03-17T00:14:31.258557+00:00"
    assert (user_change.category.name, user_change.operation_type) == ("UserManagement", "Update")
    assert (user_change.result, user_change.correlation_id) == (
        "success",
        "60d5e89a-b890-413f-9e25-a047734afe9f",
    )
    assert user_change.initiator.kind == "user"
    assert user_change.initiator.user_principal_name == "sreens@wingtiptoysonline.com"
    [target] = user_change.targets.all()
    assert (target.user_principal_name, target.object_id, target.type) == (
        "sreens@wingtiptoysonline.com",
        "7a408bdd-7d97-4574-8511-dd747b56465d",
        "User",
    )
    assert json.loads(user_change.original) == OLDER_USER_RECORD

    app_change = AuditEvent.objects.get(activity__name="Update service principal.")
    assert (app_change.initiator, app_change.initiator_ip_address) == (None, "")
    [target] = app_change.targets.all()
    assert (target.object_id, target.type, target.display_name) == (
        "ea70a262-4da3-440a-b396-9734ddfd9df2",
        "ServicePrincipal",
        "Salesforce",
    )
    properties = [(p.name, p.old_value, p.new_value) for p in target.modified_properties.all()]
    assert properties[0] == ("Included Updated Properties", None, "")
    assert properties[1][0] == "TargetId.ServicePrincipalNames"

    again = import_file(path)
    assert (again.new, again.duplicate, again.conflict) == (0, 2, 0)


def test_older_schema_with_joined_names_that_do_not_line_up_is_noted(tmp_path):
    record = json.loads(json.dumps(OLDER_USER_RECORD))
    record["properties"]["targetResourceName"] = "only__three__parts"
    record["properties"]["additionalDetails"] = "some text"
    path = write_json(tmp_path / "old.json", record)
    result = import_file(path)
    assert (result.new, result.with_notes) == (1, 1)
    event = AuditEvent.objects.get()
    assert event.targets.count() == 0
    fields = [note["field"] for note in event.notes]
    assert fields == ["properties.targetResourceName", "properties.additionalDetails"]


def test_strict_refuses_the_older_schema_as_before(tmp_path):
    path = write_json(tmp_path / "old.json", {"records": [OLDER_USER_RECORD]})
    assert_failed_with(
        import_file(path, strict=True), "record 1, field properties.additionalDetails"
    )


# Results and dates -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "result"),
    [("Success", "success"), ("SUCCESS", "success"), ("failed", "failure"), ("Failure", "failure")],
)
def test_result_words_map_whatever_their_case(tmp_path, word, result):
    record = GraphDirectoryAuditFactory(result=word)
    imported = import_file(write_json(tmp_path / "p.json", graph_page(record)))
    assert (imported.new, imported.with_notes) == (1, 0)
    assert AuditEvent.objects.get().result == result


@pytest.mark.parametrize(
    ("text", "stored", "noted"),
    [
        ("2026-11-03T10:00:00.1234567Z", "2026-11-03T10:00:00.123456+00:00", False),
        ("2026-11-03T10:00:00.123456789Z", "2026-11-03T10:00:00.123456+00:00", False),
        ("2026-11-03 10:00:00.1234567+00:00", "2026-11-03T10:00:00.123456+00:00", False),
        ("2026-11-03T12:00:00+02:00", "2026-11-03T10:00:00+00:00", False),
        ("2026-11-03T10:00:00.1234567", "2026-11-03T10:00:00.123456+00:00", True),
        ("2026-11-03 10:00:00", "2026-11-03T10:00:00+00:00", True),
    ],
)
def test_dates_as_real_exports_write_them(tmp_path, text, stored, noted):
    record = GraphDirectoryAuditFactory(activityDateTime=text)
    result = import_file(write_json(tmp_path / "p.json", graph_page(record)), strict=True)
    assert (result.new, result.with_notes) == (1, int(noted))
    event = AuditEvent.objects.get()
    assert event.activity_datetime.isoformat() == stored
    if noted:
        assert event.notes == [
            {"field": "activityDateTime", "note": "has no UTC offset; UTC assumed", "raw": text}
        ]


# Log Analytics -----------------------------------------------------------------------------


def log_analytics_row(**columns):
    row = {
        "TimeGenerated": "2026-11-03T10:00:01Z",
        "Id": "Directory_la_variant",
        "ActivityDisplayName": "Update user",
        "ActivityDateTime": "2026-11-03T10:00:00.5Z",
        "Category": "UserManagement",
        "Result": "success",
        "InitiatedBy": {"user": {"id": "u1", "userPrincipalName": "ana@x.example"}},
        "TargetResources": [{"id": "t1", "type": "User", "displayName": "Bo"}],
    }
    row.update(columns)
    return {name: value for name, value in row.items() if value is not None}


def test_dynamic_columns_as_objects_and_no_time_generated(tmp_path):
    row = log_analytics_row(TimeGenerated=None)
    result = import_file(write_lines(tmp_path / "rows.json", row, log_analytics_row(Id="b")))
    assert (result.format, result.new, result.with_notes) == ("log-analytics", 2, 0)
    event = AuditEvent.objects.get(entra_id="Directory_la_variant")
    assert event.activity_datetime.isoformat() == "2026-11-03T10:00:00.500000+00:00"
    assert event.initiator.user_principal_name == "ana@x.example"
    assert event.targets.get().display_name == "Bo"


def test_projected_rows_without_an_id_are_identified_by_their_content(tmp_path):
    rows = [
        {"TimeGenerated": "2026-11-03T10:00:01Z", "OperationName": "Add user", "Identity": "ana"},
        {"TimeGenerated": "2026-11-03T10:00:02Z", "OperationName": "Add user", "Identity": "bo"},
    ]
    path = write_lines(tmp_path / "projected.json", *rows)
    assert_failed_with(import_file(path, strict=True), "line 1, field Id: the row has no Id column")
    result = import_file(path)
    assert (result.format, result.new, result.with_notes) == ("log-analytics", 2, 2)
    ids = sorted(AuditEvent.objects.values_list("entra_id", flat=True))
    assert all(entra_id.startswith(LOG_ANALYTICS_ID_PREFIX) for entra_id in ids)
    assert AuditEvent.objects.first().notes[0]["field"] == "Id"
    assert import_file(path).duplicate == 2


@pytest.mark.parametrize("layout", ["json", "csv"])
def test_a_file_without_a_date_column_is_refused_naming_the_columns(tmp_path, layout):
    if layout == "json":
        path = write_lines(
            tmp_path / "rows.json", {"Id": "a", "OperationName": "Add user", "Category": "X"}
        )
    else:
        path = tmp_path / "rows.csv"
        path.write_text("Id,OperationName,Category\na,Add user,X\n", encoding="utf-8")
    result = import_file(path)
    assert result.format == "log-analytics"
    assert_failed_with(result, str(path), "has no date column", "ActivityDateTime", "TimeGenerated")


# Graph from SDK-based collectors -----------------------------------------------------------


def test_graph_records_with_extra_keys_and_null_lists(tmp_path):
    record = GraphDirectoryAuditFactory(
        additionalDetails=None, targetResources=None, additionalData={"x": 1}
    )
    record["@odata.type"] = "#microsoft.graph.directoryAudit"
    record["initiatedBy"]["backingStore"] = {"returnOnlyChangedValues": False}
    other = GraphDirectoryAuditFactory()
    other["targetResources"][0]["modifiedProperties"] = None
    result = import_file(write_json(tmp_path / "p.json", graph_page(record, other)), strict=True)
    assert (result.new, result.with_notes, result.rejected) == (2, 0, 0)
    assert AuditEvent.objects.get(entra_id=record["id"]).targets.count() == 0


# Notes and the hash chain ------------------------------------------------------------------


@pytest.mark.skipif(
    connection.vendor == "postgresql", reason="on PostgreSQL the trigger refuses the change"
)
def test_notes_are_covered_by_the_chain(tmp_path):
    record = GraphDirectoryAuditFactory(result="maybe")
    import_file(write_json(tmp_path / "p.json", graph_page(record, GraphDirectoryAuditFactory())))
    assert verify_chain().ok
    event = AuditEvent.objects.exclude(normalisation_notes="").get()
    with transaction.atomic():  # as someone with write access, the triggers switched off
        switch_off_immutability_triggers()
        raw("UPDATE logs_auditevent SET normalisation_notes = '' WHERE id = %s", [event.pk])
    broken = verify_chain().broken
    assert broken is not None and broken.kind == "modified" and broken.event_id == event.pk


def test_notes_stored_with_the_event_verify(tmp_path):
    records = [GraphDirectoryAuditFactory(result="maybe") for _ in range(3)]
    import_file(write_json(tmp_path / "p.json", graph_page(*records)), batch_size=2)
    assert AuditEvent.objects.exclude(normalisation_notes="").count() == 3
    verification = verify_chain()
    assert (verification.ok, verification.events) == (True, 3)
