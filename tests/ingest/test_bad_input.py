"""Bad input gets a message naming the file, the record or line, and the field; nothing is kept."""

import json

import pytest

from logs.ingest.importer import import_file
from logs.models import AuditEvent, ImportBatch
from tests.factories import GraphDirectoryAuditFactory

pytestmark = pytest.mark.django_db


def write_json(path, value):
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


def graph_page(*records):
    return {"@odata.context": "test", "value": list(records)}


def assert_failed_with(result, *fragments):
    assert result.failed
    message = "\n".join(result.errors)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert AuditEvent.objects.count() == 0


def test_truncated_json_names_file_and_position(tmp_path):
    text = json.dumps(graph_page(GraphDirectoryAuditFactory(), GraphDirectoryAuditFactory()))
    path = tmp_path / "cut.json"
    path.write_text(text[: len(text) * 3 // 4], encoding="utf-8")
    result = import_file(path)
    assert_failed_with(result, str(path), "is not valid JSON after record 1", "truncated")


def test_unknown_format(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("These are my meeting notes.\nNothing to see here.\n", encoding="utf-8")
    result = import_file(path)
    assert_failed_with(result, str(path), "is not a known audit-log format")


def test_unknown_json_shape(tmp_path):
    path = write_json(tmp_path / "other.json", {"name": "not an audit log"})
    assert_failed_with(import_file(path), str(path), "not a known audit-log shape")


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("id", None, "field id: is missing"),
        ("id", "", "field id: is empty"),
        ("activityDateTime", None, "field activityDateTime: is missing"),
        ("activityDateTime", "yesterday at noon", "'yesterday at noon' is not a date-time"),
        ("id", 12345, "field id: expected a string, got a number"),
    ],
)
@pytest.mark.parametrize("strict", [False, True], ids=["tolerant", "strict"])
def test_no_identity_or_date_is_refused_naming_record_and_field(
    tmp_path, field, value, expected, strict
):
    bad = GraphDirectoryAuditFactory()
    bad[field] = value
    path = write_json(tmp_path / "page.json", graph_page(GraphDirectoryAuditFactory(), bad))
    result = import_file(path, strict=strict)
    assert_failed_with(result, f"{path}, record 2", expected)


# Values that do not fit a normalised field: refused with --strict, otherwise stored with a
# note naming the field and quoting the raw value.
MISFITS = [
    ("targetResources", "Group", "targetResources", "expected a list, got a string", "Group"),
    ("initiatedBy", ["x"], "initiatedBy", "expected an object, got a list", '["x"]'),
    ("result", "maybe", "result", "'maybe' is not a known result", "maybe"),
    (
        "resultReason",
        "x" * 1_000_001,
        "resultReason",
        "is 1,000,001 characters long; the limit is 1,000,000",
        "x" * 200 + "…",
    ),
    ("activityDisplayName", "A" * 600, "activityDisplayName", "is 600 characters long", None),
]


@pytest.mark.parametrize(
    ("field", "value", "noted_field", "expected", "raw"),
    MISFITS,
    ids=[misfit[0] for misfit in MISFITS],
)
def test_strict_refuses_a_misfit_naming_record_and_field(
    tmp_path, field, value, noted_field, expected, raw
):
    bad = GraphDirectoryAuditFactory()
    bad[field] = value
    path = write_json(tmp_path / "page.json", graph_page(GraphDirectoryAuditFactory(), bad))
    result = import_file(path, strict=True)
    assert_failed_with(result, f"{path}, record 2", f"field {noted_field}", expected)


@pytest.mark.parametrize(
    ("field", "value", "noted_field", "expected", "raw"),
    MISFITS,
    ids=[misfit[0] for misfit in MISFITS],
)
def test_a_misfit_is_stored_verbatim_with_a_note(
    tmp_path, field, value, noted_field, expected, raw
):
    bad = GraphDirectoryAuditFactory()
    bad[field] = value
    path = write_json(tmp_path / "page.json", graph_page(GraphDirectoryAuditFactory(), bad))
    result = import_file(path)
    assert (result.read, result.new, result.with_notes, result.rejected) == (2, 2, 1, 0)
    assert "2 read, 2 new, 1 stored with notes" in result.summary()
    event = AuditEvent.objects.get(entra_id=bad["id"])
    assert json.loads(event.original)[field] == value
    [note] = event.notes
    assert note["field"] == noted_field
    assert expected in note["note"]
    if raw is not None:
        assert note["raw"] == raw
    assert result.batch.records_with_notes == 1


def test_nested_bad_field_names_its_path(tmp_path):
    bad = GraphDirectoryAuditFactory()
    bad["targetResources"][0]["modifiedProperties"] = [{"displayName": "X", "newValue": 7}]
    path = write_json(tmp_path / "page.json", graph_page(bad))
    result = import_file(path, strict=True)
    assert_failed_with(
        result,
        "record 1, field targetResources[0].modifiedProperties[0].newValue",
        "expected a string, got a number",
    )
    result = import_file(path)
    assert (result.new, result.with_notes) == (1, 1)
    [note] = AuditEvent.objects.get().notes
    assert note == {
        "field": "targetResources[0].modifiedProperties[0].newValue",
        "note": "expected a string, got a number; stored as null",
        "raw": "7",
    }


def test_binary_file(tmp_path):
    path = tmp_path / "photo.json"
    path.write_bytes(bytes(range(256)) * 40)
    assert_failed_with(import_file(path), str(path), "is not a text file")


def test_non_utf8_text_is_refused_with_advice(tmp_path):
    path = tmp_path / "legacy.csv"
    path.write_bytes('"Date (UTC)","Activity"\n"2024-11-09","Café"\n'.encode("cp1252"))
    assert_failed_with(import_file(path), str(path), "is not UTF-8 or UTF-16", "CSV UTF-8")


@pytest.mark.parametrize("content", [b"", b"   \n\r\n  "])
def test_empty_file(tmp_path, content):
    path = tmp_path / "empty.json"
    path.write_bytes(content)
    assert_failed_with(import_file(path), str(path), "is empty")


def test_missing_file(tmp_path):
    assert_failed_with(import_file(tmp_path / "nope.json"), "nope.json", "no such file")


def test_directory_instead_of_file(tmp_path):
    assert_failed_with(import_file(tmp_path), str(tmp_path), "is a directory")


def test_a_bad_record_keeps_nothing_from_the_file(tmp_path):
    good = [GraphDirectoryAuditFactory() for _ in range(5)]
    bad = GraphDirectoryAuditFactory(activityDateTime="not a date")
    path = write_json(tmp_path / "page.json", graph_page(*good, bad))
    result = import_file(path, batch_size=2)  # several batches were written before the bad one
    assert_failed_with(result, "record 6")
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.records_new == 0
    assert "record 6" in batch.error


def test_earlier_files_are_not_touched_by_a_failed_one(tmp_path):
    first = write_json(tmp_path / "first.json", graph_page(GraphDirectoryAuditFactory()))
    assert import_file(first).new == 1
    bad = write_json(tmp_path / "bad.json", graph_page(GraphDirectoryAuditFactory(id=None)))
    assert import_file(bad).failed
    assert AuditEvent.objects.count() == 1


def test_continue_on_error_keeps_good_records_and_hands_over_bad_ones(tmp_path):
    good = [GraphDirectoryAuditFactory() for _ in range(3)]
    bad = GraphDirectoryAuditFactory(activityDateTime="31/31/2024")
    path = write_json(tmp_path / "page.json", graph_page(good[0], bad, *good[1:]))
    rejected = []
    result = import_file(path, continue_on_error=True, on_reject=rejected.append)
    assert (result.read, result.new, result.rejected) == (4, 3, 1)
    assert not result.ok
    assert set(AuditEvent.objects.values_list("entra_id", flat=True)) == {r["id"] for r in good}
    [error] = rejected
    assert error.location == "record 2"
    assert error.field == "activityDateTime"
    assert json.loads(error.raw)["id"] == bad["id"]
    assert ImportBatch.objects.get().status == ImportBatch.Status.PARTIAL


def test_continue_on_error_keeps_records_before_truncation(tmp_path):
    records = [GraphDirectoryAuditFactory() for _ in range(3)]
    text = json.dumps(graph_page(*records))
    cut = text.index(records[2]["id"])
    path = tmp_path / "cut.json"
    path.write_text(text[:cut], encoding="utf-8")
    rejected = []
    result = import_file(path, continue_on_error=True, on_reject=rejected.append)
    assert result.new == 2
    assert result.rejected == 1
    assert "truncated" in str(rejected[0])


def test_bad_record_after_batches_were_written_keeps_nothing(tmp_path):
    # Batches of 2: four records are written (in the background) before record 5 fails.
    records = [GraphDirectoryAuditFactory() for _ in range(6)]
    records[4]["activityDateTime"] = "not a date"
    path = write_json(tmp_path / "late-error.json", graph_page(*records))
    result = import_file(path, batch_size=2)
    assert_failed_with(result, "record 5", "activityDateTime")
    assert ImportBatch.objects.get().status == ImportBatch.Status.FAILED


def test_continue_on_error_keeps_every_good_batch(tmp_path):
    records = [GraphDirectoryAuditFactory() for _ in range(7)]
    records[2]["id"] = None
    path = write_json(tmp_path / "partial.json", graph_page(*records))
    rejected = []
    result = import_file(path, batch_size=2, continue_on_error=True, on_reject=rejected.append)
    assert (result.read, result.new, result.rejected) == (7, 6, 1)
    assert AuditEvent.objects.count() == 6
    assert [error.location for error in rejected] == ["record 3"]
