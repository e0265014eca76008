"""Microsoft Substrate Management write-backs are annotated informational: on import, by
``annotate_substrate`` for stored data, never twice, and never on look-alikes."""

import json

import pytest

from logs.activity_catalogue import SUBSTRATE_APP_ID, SUBSTRATE_DISPLAY_NAME
from logs.annotations import SUBSTRATE_NOTE, annotate_substrate
from logs.ingest.generated import store_generated_records
from logs.ingest.importer import import_file
from logs.models import Annotation, AuditEvent, Initiator
from tests.factories import (
    ActivityFactory,
    AuditEventFactory,
    GraphDirectoryAuditFactory,
    InitiatorFactory,
)
from tests.support import FIXTURES_DIR

pytestmark = pytest.mark.django_db

SIX_RECORD_FILES = [
    "portal-json/AuditLogs_2026-11-02.json",
    "portal-csv/AuditLogs_2026-11-02.csv",
    "azure-monitor/eventhub-message.json",
    "azure-monitor/insights-logs-auditlogs-PT1H.json",
    "log-analytics/AuditLogs-query-api-response.json",
    "log-analytics/AuditLogs-query-export.csv",
]


def informational_activities() -> list[str]:
    return sorted(
        Annotation.objects.filter(kind="informational").values_list(
            "event__activity__name", flat=True
        )
    )


@pytest.mark.parametrize("path", SIX_RECORD_FILES)
def test_import_annotates_the_write_back_in_every_format(path):
    # Each six-record file has one Substrate entry: "Update group" (operation Update; the
    # portal CSV carries no operation type and no app id, only ActorDisplayName).
    import_file(FIXTURES_DIR / path)
    [note] = Annotation.objects.all()
    assert note.event.activity.name == "Update group"
    assert (note.kind, note.text, note.source) == ("informational", SUBSTRATE_NOTE, "import")


def test_import_twice_and_the_command_add_no_second_annotation():
    path = FIXTURES_DIR / SIX_RECORD_FILES[0]
    import_file(path)
    import_file(path)
    counts = annotate_substrate(source="annotate_substrate")
    assert (counts.matched, counts.already, counts.annotated) == (1, 1, 0)
    assert Annotation.objects.count() == 1


def test_dry_run_import_writes_nothing():
    import_file(FIXTURES_DIR / SIX_RECORD_FILES[0], dry_run=True)
    assert not Annotation.objects.exists()


def test_graph_docs_examples_are_not_write_backs():
    for name in ["graph-docs-list-example1.json", "graph-docs-list-example2.json"]:
        import_file(FIXTURES_DIR / "graph" / name)
    assert not Annotation.objects.exists()


def substrate_record(app: dict, operation: str = "Update", activity: str = "Update group"):
    return GraphDirectoryAuditFactory(
        initiatedBy={"user": None, "app": app},
        operationType=operation,
        activityDisplayName=activity,
    )


APP_FORM = {
    "appId": SUBSTRATE_APP_ID,
    "displayName": SUBSTRATE_DISPLAY_NAME,
    "servicePrincipalId": "a7c9e1f3-5b7d-4e9f-8a1c-3e5a7c9e1f35",
    "servicePrincipalName": None,
}
# Only the service principal's name, no app id or app display name.
SERVICE_PRINCIPAL_FORM = {
    "appId": None,
    "displayName": None,
    "servicePrincipalId": "0d3e5f7a-9b1c-4d2e-8f3a-5b7c9d1e3f5a",
    "servicePrincipalName": SUBSTRATE_DISPLAY_NAME,
}
# The app id alone is enough: some records leave the display name out.
APP_ID_ONLY = {**APP_FORM, "displayName": None}


@pytest.mark.parametrize(
    ("app", "operation", "activity"),
    [
        (APP_FORM, "Update", "Update group"),
        (APP_FORM, "Add", "Add user"),
        (APP_FORM, "Delete", "Delete group"),
        (SERVICE_PRINCIPAL_FORM, "Update", "Update user"),
        (APP_ID_ONLY, "Update", "Update group"),
    ],
)
def test_real_shaped_write_backs_are_annotated(app, operation, activity):
    store_generated_records([substrate_record(app, operation, activity)], label="test")
    assert informational_activities() == [activity]


LOOK_ALIKES = {
    "user with the name": {
        "user": {
            "id": "11111111-2222-4333-8444-555555555555",
            "displayName": SUBSTRATE_DISPLAY_NAME,
            "userPrincipalName": "substrate@contoso.example",
            "ipAddress": None,
        },
        "app": None,
    },
    "other app id, same name": {
        "user": None,
        "app": {**APP_FORM, "appId": "0f0f0f0f-1234-4abc-9def-0123456789ab"},
    },
    "similar name, no app id": {
        "user": None,
        "app": {**SERVICE_PRINCIPAL_FORM, "servicePrincipalName": "Microsoft Substrate Mgmt"},
    },
}


@pytest.mark.parametrize("initiated_by", LOOK_ALIKES.values(), ids=LOOK_ALIKES.keys())
def test_look_alike_initiators_are_not_annotated(initiated_by):
    record = GraphDirectoryAuditFactory(
        initiatedBy=initiated_by, operationType="Update", activityDisplayName="Update group"
    )
    store_generated_records([record], label="test")
    assert AuditEvent.objects.count() == 1
    assert not Annotation.objects.exists()


@pytest.mark.parametrize(
    ("operation", "activity"),
    [("Assign", "Add member to group"), ("Unassign", "Remove owner from group")],
)
def test_assign_and_unassign_by_the_real_app_are_not_annotated(operation, activity):
    store_generated_records([substrate_record(APP_FORM, operation, activity)], label="test")
    assert not Annotation.objects.exists()


def test_without_an_operation_type_the_activity_decides():
    # The portal CSV form: no operation type. "Update group" is documented as Update;
    # "Add member to group" as Assign.
    substrate = InitiatorFactory(
        kind=Initiator.Kind.APP,
        app_display_name=SUBSTRATE_DISPLAY_NAME,
        user_object_id="",
        user_display_name="",
        user_principal_name="",
    )
    update = AuditEventFactory(
        initiator=substrate, operation_type="", activity=ActivityFactory(name="Update group")
    )
    AuditEventFactory(
        initiator=substrate,
        operation_type="",
        activity=ActivityFactory(name="Add member to group"),
    )
    counts = annotate_substrate(source="annotate_substrate")
    assert (counts.matched, counts.annotated) == (1, 1)
    assert list(Annotation.objects.values_list("event", flat=True)) == [update.pk]


def test_stored_data_is_annotated_once_and_dry_run_only_counts():
    substrate = InitiatorFactory(
        kind=Initiator.Kind.APP, app_id=SUBSTRATE_APP_ID, app_display_name=SUBSTRATE_DISPLAY_NAME
    )
    events = [AuditEventFactory(initiator=substrate, operation_type="Update") for _ in range(3)]
    AuditEventFactory(operation_type="Update")  # a person's change
    dry = annotate_substrate(source="annotate_substrate", dry_run=True)
    assert (dry.matched, dry.already, dry.annotated, dry.to_annotate) == (3, 0, 0, 3)
    assert not Annotation.objects.exists()
    first = annotate_substrate(source="annotate_substrate")
    assert (first.matched, first.already, first.annotated) == (3, 0, 3)
    again = annotate_substrate(source="annotate_substrate")
    assert (again.matched, again.already, again.annotated) == (3, 3, 0)
    assert sorted(Annotation.objects.values_list("event", flat=True)) == [e.pk for e in events]
    assert set(Annotation.objects.values_list("source", flat=True)) == {"annotate_substrate"}


def test_generated_demo_data_write_backs_are_all_annotated():
    records = [GraphDirectoryAuditFactory() for _ in range(5)]
    records += [
        GraphDirectoryAuditFactory(substrate=True, operationType="Update") for _ in range(4)
    ]
    store_generated_records(records, label="test")
    substrate_ids = {
        AuditEvent.objects.get(entra_id=record["id"]).pk
        for record in records
        if (record["initiatedBy"] or {}).get("app")
        and record["initiatedBy"]["app"]["appId"] == SUBSTRATE_APP_ID
    }
    assert len(substrate_ids) == 4
    assert set(Annotation.objects.values_list("event", flat=True)) == substrate_ids
    assert json.loads(AuditEvent.objects.get(pk=min(substrate_ids)).original)["initiatedBy"]
