"""Every file in fixtures/ imports with the counts and values read off the raw file.

The six-record files (portal JSON, portal CSV, Azure Monitor, Log Analytics) carry the same six
audit events in each format's own shape, so one table of expected values checks them all; the
differences the formats impose (what the portal CSV leaves out, Log Analytics' millisecond
dates) are spelled out per file.
"""

import csv
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from logs.ingest.importer import import_file
from logs.models import AuditEvent, Initiator
from tests.support import FIXTURES_DIR

pytestmark = pytest.mark.django_db

SUBSTRATE_APP_ID = "98db8bd6-0cc0-4e67-9de5-f187f1cd1b41"


@dataclass(frozen=True)
class FixtureFile:
    path: str
    format: str
    records: int
    # The portal CSV keeps 5 modified properties per target and has no operation type or app id.
    flattened: bool = False
    # Log Analytics' CSV export writes dates to the millisecond.
    milliseconds: bool = False
    # Events, when rows repeat one (a query that expanded an event into several rows).
    events: int | None = None
    # Records stored with normalisation notes.
    with_notes: int = 0

    @property
    def new(self) -> int:
        return self.records if self.events is None else self.events


FIXTURE_FILES = [
    FixtureFile("graph/graph-docs-list-example1.json", "graph", 1),
    FixtureFile("graph/graph-docs-list-example2.json", "graph", 1),
    FixtureFile("graph/graph-beta-docs-list-example1.json", "graph", 1),
    FixtureFile("graph/graph-beta-docs-list-example2.json", "graph", 1),
    FixtureFile("portal-json/AuditLogs_2026-11-02.json", "portal-json", 6),
    FixtureFile("portal-csv/AuditLogs_2026-11-02.csv", "portal-csv", 6, flattened=True),
    FixtureFile("azure-monitor/eventhub-message.json", "azure-monitor", 6),
    FixtureFile("azure-monitor/insights-logs-auditlogs-PT1H.json", "azure-monitor", 6),
    FixtureFile("log-analytics/AuditLogs-query-api-response.json", "log-analytics", 6),
    FixtureFile("log-analytics/AuditLogs-query-export.csv", "log-analytics", 6, milliseconds=True),
    # Real records published by others (SOURCES.md): what real exports contain.
    FixtureFile("placeholder-ids/graph-beta-docs-get-example.json", "graph", 1),
    FixtureFile("azure-monitor/azure-monitor-storage-blob-datadog-lfo.json", "azure-monitor", 22),
    FixtureFile(
        "azure-monitor/azure-monitor-datadog-test-01_add-owner-to-sp_minimal.json",
        "azure-monitor",
        1,
    ),
    FixtureFile("azure-monitor/azure-monitor-datadog-test-02_delete-user.json", "azure-monitor", 1),
    FixtureFile(
        "azure-monitor/azure-monitor-datadog-test-03_add-member-to-role.json", "azure-monitor", 1
    ),
    FixtureFile(
        "azure-monitor/azure-monitor-datadog-test-04_add-member-to-group.json", "azure-monitor", 1
    ),
    FixtureFile(
        "azure-monitor/azure-monitor-datadog-test-05_b2c_validate-user-authentication.json",
        "azure-monitor",
        1,
    ),
    FixtureFile("log-analytics/log-analytics-otrf-goldensaml.json", "log-analytics", 4, events=3),
]
SIX_RECORD_FILES = [fixture for fixture in FIXTURE_FILES if fixture.records == 6]


def by_activity(name: str) -> AuditEvent:
    return AuditEvent.objects.select_related("initiator").get(activity__name=name)


def test_every_fixture_file_has_expectations():
    on_disk = {
        str(path.relative_to(FIXTURES_DIR))
        for path in FIXTURES_DIR.rglob("*")
        if path.is_file() and path.name != "SOURCES.md"
    }
    assert on_disk == {fixture.path for fixture in FIXTURE_FILES}


@pytest.mark.parametrize("fixture", FIXTURE_FILES, ids=lambda fixture: fixture.path)
def test_imports_with_exact_counts_and_twice_adds_nothing(fixture):
    path = FIXTURES_DIR / fixture.path
    first = import_file(path)
    assert (
        first.format,
        first.read,
        first.new,
        first.duplicate,
        first.conflict,
        first.rejected,
        first.with_notes,
    ) == (
        fixture.format,
        fixture.records,
        fixture.new,
        fixture.records - fixture.new,
        0,
        0,
        fixture.with_notes,
    )
    again = import_file(path)
    assert (again.read, again.new, again.duplicate) == (fixture.records, 0, fixture.records)
    assert AuditEvent.objects.count() == fixture.new


@pytest.mark.parametrize("fixture", SIX_RECORD_FILES, ids=lambda fixture: fixture.path)
def test_update_user_with_unicode_names_and_many_properties(fixture):
    import_file(FIXTURES_DIR / fixture.path)
    event = by_activity("Update user")
    expected_time = datetime(2026, 11, 2, 8, 14, 3, 123000 if fixture.milliseconds else 123456)
    assert event.activity_datetime == expected_time.replace(tzinfo=UTC)
    assert (event.service.name, event.category.name) == ("Core Directory", "UserManagement")
    assert event.operation_type == ("" if fixture.flattened else "Update")
    assert event.correlation_id == "5f0b7a3e-2c4d-4b8e-9a61-0d7e3c2b1a90"
    assert event.initiator.kind == Initiator.Kind.USER
    assert event.initiator.user_display_name == "Zoë Ångström"
    assert event.initiator.user_principal_name == "zoe.angstrom@contoso.example"
    assert event.initiator_ip_address == "203.0.113.24"
    assert event.initiator_user_agent == "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edge/130.0"
    [target] = event.targets.all()
    assert (target.type, target.display_name) == ("User", "Łukasz Müller")
    properties = list(target.modified_properties.order_by("position"))
    assert len(properties) == (5 if fixture.flattened else 25)
    assert (properties[0].name, properties[0].old_value, properties[0].new_value) == (
        "ExtensionAttribute1",
        "[]",
        '["value 1"]',
    )
    assert event.additional_details[0] == {"key": "UserType", "value": "Member"}


@pytest.mark.parametrize("fixture", SIX_RECORD_FILES, ids=lambda fixture: fixture.path)
def test_substrate_write_back_initiated_by_an_app(fixture):
    import_file(FIXTURES_DIR / fixture.path)
    event = by_activity("Update group")
    assert event.initiator.kind == Initiator.Kind.APP
    assert event.initiator.app_display_name == "Microsoft Substrate Management"
    assert event.initiator.service_principal_id == "a7c9e1f3-5b7d-4e9f-8a1c-3e5a7c9e1f35"
    # The portal CSV has no column for the app id.
    assert event.initiator.app_id == ("" if fixture.flattened else SUBSTRATE_APP_ID)
    [target] = event.targets.all()
    assert (target.display_name, target.object_id) == (
        "Ventes Région Île-de-France",
        "f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9",
    )


@pytest.mark.parametrize("fixture", SIX_RECORD_FILES, ids=lambda fixture: fixture.path)
def test_failure_several_targets_no_initiator_and_json_in_strings(fixture):
    import_file(FIXTURES_DIR / fixture.path)
    failure = by_activity("Reset password (self-service)")
    assert (failure.result, failure.result_reason) == ("failure", "User's account is locked")
    assert failure.service.name == "Self-service Password Management"
    assert failure.targets.get().display_name == "山田 太郎"

    owners = by_activity("Add owner to group")
    assert [(t.position, t.type, t.display_name) for t in owners.targets.order_by("position")] == [
        (0, "User", ""),  # displayName is null in the source
        (1, "Group", "Ventes Région Île-de-France"),
        (2, "User", "Zoë Ångström"),
    ]

    policy = by_activity("Update policy")
    assert policy.initiator is None
    assert policy.activity_datetime.microsecond == (999000 if fixture.milliseconds else 999999)
    [prop] = policy.targets.get().modified_properties.all()
    assert json.loads(json.loads(prop.new_value)[0]) == {
        "TokenLifetimePolicy": {"Version": 1, "AccessTokenLifetime": "02:00:00"}
    }

    rename = by_activity("Update application")
    names = {
        p.name: (p.old_value, p.new_value) for p in rename.targets.get().modified_properties.all()
    }
    assert names["DisplayName"] == ('["Payroll Sync"]', '["Payroll Connector"]')


def raw_json_records(fixture: FixtureFile) -> list[dict]:
    text = (FIXTURES_DIR / fixture.path).read_text(encoding="utf-8-sig")
    if fixture.format == "log-analytics":
        [table] = json.loads(text)["tables"]
        names = [column["name"] for column in table["columns"]]
        return [dict(zip(names, row, strict=True)) for row in table["rows"]]
    if text.lstrip().startswith("{") and "\n{" in text:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    loaded = json.loads(text)
    if isinstance(loaded, dict):
        return loaded["records"]  # an Event Hub message
    return loaded


@pytest.mark.parametrize(
    "fixture",
    [f for f in SIX_RECORD_FILES if f.path.endswith(".json")],
    ids=lambda fixture: fixture.path,
)
def test_original_is_the_source_record(fixture):
    import_file(FIXTURES_DIR / fixture.path)
    stored = [
        json.loads(text)
        for text in AuditEvent.objects.order_by("id").values_list("original", flat=True)
    ]
    assert stored == raw_json_records(fixture)


@pytest.mark.parametrize(
    "fixture",
    [f for f in SIX_RECORD_FILES if f.path.endswith(".csv")],
    ids=lambda fixture: fixture.path,
)
def test_original_of_a_csv_row_is_every_cell_by_header(fixture):
    import_file(FIXTURES_DIR / fixture.path)
    with open(FIXTURES_DIR / fixture.path, encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.reader(stream))
    expected = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    stored = [
        json.loads(text)
        for text in AuditEvent.objects.order_by("id").values_list("original", flat=True)
    ]
    assert stored == expected
