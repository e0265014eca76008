"""The same id with other content is a conflict (reported, the first version kept); the same
event from the portal CSV and an id-bearing format is linked, and counted once."""

import json

import pytest

from logs.ingest.importer import RejectsWriter, import_file
from logs.integrity import verify_chain
from logs.models import Annotation, AuditEvent, ImportBatch
from tests.factories import GraphDirectoryAuditFactory
from tests.ingest.test_bad_input import graph_page, write_json
from tests.support import FIXTURES_DIR
from tests.tampering import tamper

pytestmark = pytest.mark.django_db


def test_the_same_id_with_other_content_is_a_conflict_and_the_first_is_kept(tmp_path):
    first = GraphDirectoryAuditFactory(result="success")
    changed = {**first, "result": "failure"}
    import_file(write_json(tmp_path / "first.json", graph_page(first)))
    rejects = RejectsWriter(tmp_path / "rejects.jsonl")
    path = write_json(tmp_path / "second.json", graph_page(GraphDirectoryAuditFactory(), changed))
    result = import_file(path, on_reject=rejects)
    rejects.close()

    assert (result.read, result.new, result.duplicate, result.conflict) == (2, 1, 0, 1)
    assert "2 read, 1 new, 0 duplicate, 1 conflicting" in result.summary()
    assert AuditEvent.objects.get(entra_id=first["id"]).result == "success"
    batch = ImportBatch.objects.get(pk=result.batch.pk)
    assert (batch.records_new, batch.records_conflicting, batch.status) == (1, 1, "completed")
    assert f"activity id {first['id']} was already stored with other content" in batch.error
    [entry] = [json.loads(line) for line in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert (entry["file"], entry["location"], entry["field"]) == (str(path), "record 2", "id")
    assert "first.json" in entry["kept"] and entry["error"].startswith("conflict: ")
    assert json.loads(entry["record"]) == changed


def test_an_identical_reimport_stays_a_plain_duplicate(tmp_path):
    path = write_json(tmp_path / "p.json", graph_page(GraphDirectoryAuditFactory()))
    import_file(path)
    again = import_file(path)
    assert (again.new, again.duplicate, again.conflict) == (0, 1, 0)


@pytest.mark.parametrize("fixture", ["graph", "azure-monitor"])
def test_events_stored_before_content_hashes_are_compared_from_their_originals(tmp_path, fixture):
    """An event stored before content hashes were kept has none: its hash is computed from its
    original when its id arrives again, so other content is a conflict and the same content a
    duplicate, as for any event."""
    first = GraphDirectoryAuditFactory(result="success")
    page = graph_page if fixture == "graph" else monitor_page

    def write(path, record):
        return write_json(path, page(record))

    import_file(write(tmp_path / "first.json", first))
    tamper("UPDATE logs_auditevent SET content_hash = ''")  # as migration 0024 left them

    same = import_file(write(tmp_path / "same.json", first))
    assert (same.new, same.duplicate, same.conflict) == (0, 1, 0)
    changed = import_file(write(tmp_path / "changed.json", {**first, "result": "failure"}))
    assert (changed.new, changed.duplicate, changed.conflict) == (0, 0, 1)
    assert AuditEvent.objects.get(entra_id=first["id"]).result == "success"


def monitor_page(record: dict) -> dict:
    """``record`` as an Azure Monitor export holds it (see fixtures/azure-monitor/)."""
    return {
        "records": [
            {
                "time": record["activityDateTime"],
                "category": "AuditLogs",
                "operationName": record["activityDisplayName"],
                "correlationId": record["correlationId"],
                "properties": record,
            }
        ]
    }


def test_a_conflict_within_one_file_names_both_locations(tmp_path):
    first = GraphDirectoryAuditFactory()
    changed = {**first, "activityDisplayName": "Delete user"}
    records = [first, *[GraphDirectoryAuditFactory() for _ in range(4)], changed]
    path = write_json(tmp_path / "p.json", graph_page(*records))
    result = import_file(path, batch_size=2)
    assert (result.new, result.conflict) == (5, 1)
    kept = AuditEvent.objects.get(entra_id=first["id"])
    assert kept.activity.name == first["activityDisplayName"]
    # The first version is stored by now: the message names its event and file.
    assert result.conflicts == [
        f"{path}, record 6: activity id {first['id']} was already stored with other content "
        f"(stored as event {kept.pk}, graph, from {path}); the version stored first is kept, "
        "this one is not stored"
    ]
    # Within one batch, the first version's record is named.
    other = GraphDirectoryAuditFactory()
    path = write_json(
        tmp_path / "q.json", graph_page(other, {**other, "activityDisplayName": "Delete user"})
    )
    assert "read earlier from record 1" in import_file(path).conflicts[0]


def test_a_rename_in_a_projected_column_is_the_same_event(tmp_path):
    """Rows of one event that differ only in what a query added are duplicates, not conflicts
    (the real OTRF capture has such a pair)."""
    result = import_file(FIXTURES_DIR / "log-analytics" / "log-analytics-otrf-goldensaml.json")
    assert (result.read, result.new, result.duplicate, result.conflict) == (4, 3, 1, 0)


def test_the_same_event_from_graph_and_azure_monitor_is_a_duplicate(tmp_path):
    record = GraphDirectoryAuditFactory()
    import_file(write_json(tmp_path / "g.json", graph_page(record)))
    monitor = {
        "time": record["activityDateTime"],
        "operationName": record["activityDisplayName"],
        "resourceId": "/tenants/x/providers/Microsoft.aadiam",
        "category": "AuditLogs",
        "callerIpAddress": "192.0.2.9",
        "properties": record,
    }
    result = import_file(write_json(tmp_path / "m.json", {"records": [monitor]}))
    assert (result.new, result.duplicate, result.conflict) == (0, 1, 0)


# Cross-format duplicates -------------------------------------------------------------------

SIX_EVENTS_JSON = FIXTURES_DIR / "portal-json" / "AuditLogs_2026-11-02.json"
SIX_EVENTS_CSV = FIXTURES_DIR / "portal-csv" / "AuditLogs_2026-11-02.csv"


def duplicates() -> dict[int, int]:
    return dict(
        Annotation.objects.filter(kind=Annotation.Kind.DUPLICATE).values_list(
            "event_id", "duplicate_of_id"
        )
    )


@pytest.mark.parametrize("csv_first", [False, True], ids=["id-bearing first", "csv first"])
def test_csv_rows_are_linked_to_the_same_events_from_an_id_bearing_format(csv_first):
    files = [SIX_EVENTS_CSV, SIX_EVENTS_JSON] if csv_first else [SIX_EVENTS_JSON, SIX_EVENTS_CSV]
    results = [import_file(path) for path in files]
    assert [result.new for result in results] == [6, 6]
    assert [result.cross_format for result in results] == [0, 6]
    assert results[1].batch.records_cross_format_duplicate == 6
    links = duplicates()
    csv_events = set(
        AuditEvent.objects.filter(source_format="portal-csv").values_list("pk", flat=True)
    )
    assert set(links) == csv_events
    for csv_pk, original_pk in links.items():
        csv_event, original = (
            AuditEvent.objects.get(pk=csv_pk),
            AuditEvent.objects.get(pk=original_pk),
        )
        assert original.source_format == "portal-json"
        assert csv_event.activity_id == original.activity_id
        assert csv_event.correlation_id == original.correlation_id
    # Nothing was deleted or changed: both versions are stored and the chain verifies.
    assert AuditEvent.objects.count() == 12
    assert verify_chain().ok
    # A third import of either adds no second link.
    assert import_file(SIX_EVENTS_JSON).cross_format == 0
    assert import_file(SIX_EVENTS_CSV).cross_format == 0
    assert len(duplicates()) == 6


def test_a_csv_row_of_another_event_is_not_linked(tmp_path):
    import_file(SIX_EVENTS_JSON)
    header = SIX_EVENTS_CSV.read_text(encoding="utf-8-sig").splitlines()[0]
    cells = ['""'] * len(header.split(","))
    names = [name.strip('"') for name in header.split(",")]
    cells[names.index("Date (UTC)")] = '"2026-11-02T08:14:03Z"'
    cells[names.index("Activity")] = '"Update user"'
    cells[names.index("CorrelationId")] = '"00000000-1111-4222-8333-444444444444"'
    path = tmp_path / "other.csv"
    path.write_text(header + "\r\n" + ",".join(cells) + "\r\n", encoding="utf-8")
    result = import_file(path)
    assert (result.new, result.cross_format) == (1, 0)
    assert duplicates() == {}
