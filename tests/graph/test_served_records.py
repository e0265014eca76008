"""The directoryAudit records auditportal serves (the Graph endpoint and JSON exports), checked
against the records Microsoft's own documentation shows Graph serving."""

import json
from datetime import UTC, datetime

import pytest

from logs.exports.graph_records import BETA, V1, directory_audit, served_datetime
from logs.exports.selection import event_rows, event_values
from logs.ingest.importer import import_file
from logs.models import AuditEvent
from tests.support import FIXTURES_DIR

pytestmark = pytest.mark.django_db

GRAPH_DIR = FIXTURES_DIR / "graph"
SIX_EVENT_FILES = [
    "portal-json/AuditLogs_2026-11-02.json",
    "azure-monitor/eventhub-message.json",
    "azure-monitor/insights-logs-auditlogs-PT1H.json",
    "portal-csv/AuditLogs_2026-11-02.csv",
    "log-analytics/AuditLogs-query-api-response.json",
    "log-analytics/AuditLogs-query-export.csv",
]
GRAPH_RESULTS = {"success", "failure", "timeout", "unknownFutureValue"}


def served(version: str = BETA, **filters) -> list[dict]:
    """Every stored event (oldest first) as auditportal serves it."""
    events = AuditEvent.objects.filter(**filters).order_by("activity_datetime", "id")
    rows = event_rows(event_values(events, with_original=True))
    return [directory_audit(row, version) for row in rows]


def published_records(name: str) -> list[dict]:
    body = json.loads((GRAPH_DIR / name).read_text(encoding="utf-8"))
    return body.get("value", [body])


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("graph-docs-list-example2.json", V1),
        ("graph-beta-docs-list-example1.json", BETA),
        ("graph-beta-docs-list-example2.json", BETA),
    ],
)
def test_a_record_graph_served_is_served_back_exactly(name, version):
    import_file(GRAPH_DIR / name)
    assert served(version) == published_records(name)


def test_the_documented_quirks_are_served_in_graph_shape():
    """v1.0's example 1 spells ``"Type"``, leaves out operationType and some user and target
    properties: served as Graph's properties, lower-case ``type``, null for what is missing."""
    import_file(GRAPH_DIR / "graph-docs-list-example1.json")
    [record] = served(V1)
    assert record == {
        "id": "id",
        "category": "UserManagement",
        "correlationId": "da159bfb-54fa-4092-8a38-6e1fa7870e30",
        "result": "success",
        "resultReason": "Successfully added member to group",
        "activityDisplayName": "Add member to group",
        "activityDateTime": "2018-01-09T21:20:02.7215374Z",
        "loggedByService": "Core Directory",
        "operationType": None,
        "initiatedBy": {
            "app": None,
            "user": {
                "id": "728309ae-1a37-4937-9afe-e35d964db09b",
                "displayName": "Audry Oliver",
                "userPrincipalName": "bob@wingtiptoysonline.com",
                "ipAddress": "127.0.0.1",
                "userType": None,
                "homeTenantId": None,
                "homeTenantName": None,
            },
        },
        "targetResources": [
            {
                "id": "ef7e527d-6c92-4234-8c6d-cf6fdfb57f95",
                "displayName": "Example.com",
                "type": "Group",
                "userPrincipalName": None,
                "groupType": "unifiedGroups",
                "modifiedProperties": [
                    {
                        "displayName": "Action Client Name",
                        "oldValue": None,
                        "newValue": "DirectorySync",
                    }
                ],
            },
            {
                "id": "1f0e98f5-3161-4c6b-9b50-d488572f2bb7",
                "displayName": None,
                "type": "User",
                "userPrincipalName": "bob@contoso.com",
                "groupType": None,
                "modifiedProperties": [],
            },
        ],
        "additionalDetails": [
            {"key": "Additional Detail Name", "value": "Additional Detail Value"}
        ],
    }
    # The stored original is untouched.
    assert '"Type":"Group"' in AuditEvent.objects.get().original


def test_beta_adds_the_user_agent_and_v1_leaves_it_in_additional_details():
    import_file(FIXTURES_DIR / "portal-json" / "AuditLogs_2026-11-02.json")
    [beta] = served(BETA, activity__name="Update user")
    [v1] = served(V1, activity__name="Update user")
    agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edge/130.0"
    assert beta.pop("userAgent") == agent
    assert "userAgent" not in v1
    assert beta == v1
    assert {"key": "User-Agent", "value": agent} in v1["additionalDetails"]


def test_azure_monitor_serves_the_graph_record_it_carries():
    """The same six events, read from a portal JSON download and from Azure Monitor's envelope,
    are served identically (but for the ids, which differ between the sample files)."""
    import_file(FIXTURES_DIR / "portal-json" / "AuditLogs_2026-11-02.json")
    import_file(FIXTURES_DIR / "azure-monitor" / "eventhub-message.json")
    from_portal = served(source_format="portal-json")
    from_azure_monitor = served(source_format="azure-monitor")
    for record in from_portal + from_azure_monitor:
        assert record.pop("id")
    assert from_azure_monitor == from_portal


def test_a_portal_csv_row_serves_null_for_what_the_csv_lacks():
    import_file(FIXTURES_DIR / "portal-csv" / "AuditLogs_2026-11-02.csv")
    [update_group] = served(activity__name="Update group")
    assert update_group["operationType"] is None  # no column for it
    app = update_group["initiatedBy"]["app"]
    assert app["appId"] is None  # no column for it
    assert app["displayName"] == "Microsoft Substrate Management"
    [update_user] = served(activity__name="Update user")
    assert update_user["initiatedBy"]["user"]["userType"] is None
    assert update_user["targetResources"][0]["type"] == "User"
    assert update_user["activityDateTime"] == "2026-11-02T08:14:03.1234560Z"


@pytest.mark.parametrize("sample", SIX_EVENT_FILES)
@pytest.mark.parametrize("version", [V1, BETA])
def test_every_record_of_every_format_has_graph_types(sample, version):
    import_file(FIXTURES_DIR / sample)
    records = served(version)
    assert len(records) == 6
    keys = {
        "id",
        "category",
        "correlationId",
        "result",
        "resultReason",
        "activityDisplayName",
        "activityDateTime",
        "loggedByService",
        "operationType",
        "initiatedBy",
        "targetResources",
        "additionalDetails",
    } | ({"userAgent"} if version == BETA else set())
    for record in records:
        assert set(record) == keys
        assert record["result"] in GRAPH_RESULTS
        assert record["activityDateTime"].endswith("Z")
        parsed = datetime.fromisoformat(record["activityDateTime"])
        assert parsed.tzinfo == UTC
        initiated_by = record["initiatedBy"]
        assert initiated_by is None or set(initiated_by) == {"app", "user"}
        for target in record["targetResources"]:
            assert set(target) == {
                "id",
                "displayName",
                "type",
                "userPrincipalName",
                "groupType",
                "modifiedProperties",
            }
        assert all(set(detail) == {"key", "value"} for detail in record["additionalDetails"])


STORED = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("2024-05-06T07:08:09.1234567Z", "2024-05-06T07:08:09.1234567Z"),
        ("2024-05-06T09:08:09.1234567+02:00", "2024-05-06T07:08:09.1234567Z"),
        ("2024-05-06T07:08:09.123456789Z", "2024-05-06T07:08:09.1234567Z"),
        ("2024-05-06 07:08:09.123456", "2024-05-06T07:08:09.123456Z"),
        ("5/6/2024, 7:08:09.999 AM", "2024-05-06T07:08:09.1234560Z"),  # not these microseconds
        (None, "2024-05-06T07:08:09.1234560Z"),
    ],
)
def test_the_date_keeps_the_source_digits_of_the_stored_moment(source, expected):
    assert served_datetime(source, STORED) == expected


def test_a_date_without_fraction_stays_without():
    moment = STORED.replace(microsecond=0)
    assert served_datetime("2024-05-06T07:08:09Z", moment) == "2024-05-06T07:08:09Z"
