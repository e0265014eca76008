"""Parsing in a second process gives exactly what the serial parser gives, errors included."""

import json
import os
import queue
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from django.db import connection

from logs.ingest import importer, loader, parallel
from logs.ingest.detect import detect
from logs.ingest.errors import ImportFileError, RecordError
from logs.ingest.fingerprints import content_hash, match_key
from logs.ingest.formats import PARSERS
from logs.ingest.importer import import_file
from logs.ingest.parallel import CHUNK_RECORDS, ParallelParse
from logs.ingest.records import AuditRecord
from logs.ingest.sources import open_input
from logs.integrity import verify_chain
from logs.models import AuditEvent
from logs.originals.codec import ZSTD, Dictionary, pack
from logs.originals.dictionaries import shipped_data, store_dictionary, writing_dictionary
from logs.originals.training import train
from tests.factories import GraphDirectoryAuditFactory
from tests.ingest.test_bad_input import graph_page, write_json
from tests.support import FIXTURES_DIR

FIXTURE_FILES = sorted(
    path for path in FIXTURES_DIR.rglob("*") if path.is_file() and path.suffix in (".json", ".csv")
)


def both_ways(path):
    """The items of ``path`` parsed here and in a parsing process. The parsing process also
    computes each record's fingerprints, which the loader computes for the serial parser's
    records: they are computed here for those, so that the two must agree."""
    input_file = open_input(path)
    detected = detect(input_file)
    serial = list(PARSERS[detected.format](input_file, detected.layout))
    for item in serial:
        if isinstance(item, AuditRecord):
            item.content_hash, item.match_key = content_hash(item), match_key(item)
    parallel = list(ParallelParse(input_file, detected.format, detected.layout))
    return serial, parallel


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda path: path.name)
def test_same_records_as_the_serial_parser(path):
    serial, parallel = both_ways(path)
    assert parallel == serial
    assert all(type(a) is type(b) for a, b in zip(parallel, serial, strict=True))


def test_rejected_records_come_back_in_place(tmp_path):
    records = [GraphDirectoryAuditFactory() for _ in range(5)]
    records[1]["id"] = 7
    records[3]["activityDateTime"] = "soon"
    serial, parallel = both_ways(write_json(tmp_path / "bad.json", graph_page(*records)))
    assert [type(item).__name__ for item in parallel] == [
        "AuditRecord",
        "RecordError",
        "AuditRecord",
        "RecordError",
        "AuditRecord",
    ]
    assert [str(item) for item in parallel if isinstance(item, RecordError)] == [
        str(item) for item in serial if isinstance(item, RecordError)
    ]


def test_a_damaged_file_fails_at_the_same_record(tmp_path):
    text = json.dumps(graph_page(*[GraphDirectoryAuditFactory() for _ in range(4)]))
    path = tmp_path / "cut.json"
    path.write_text(text[: len(text) * 2 // 3], encoding="utf-8")
    input_file = open_input(path)
    detected = detect(input_file)
    seen = []
    with pytest.raises(ImportFileError) as error:
        seen.extend(ParallelParse(input_file, detected.format, detected.layout))
    with pytest.raises(ImportFileError) as serial_error:
        list(PARSERS[detected.format](input_file, detected.layout))
    assert str(error.value) == str(serial_error.value)
    assert len(seen) == 2


def test_stopping_early_ends_the_child(tmp_path):
    path = write_json(
        tmp_path / "page.json", graph_page(*[GraphDirectoryAuditFactory() for _ in range(50)])
    )
    input_file = open_input(path)
    detected = detect(input_file)
    before = _children()
    items = iter(ParallelParse(input_file, detected.format, detected.layout))
    assert next(items).entra_id
    assert _children() > before  # the parsing process runs
    items.close()  # what the importer's loop does when a bad record stops it
    assert _children() == before  # ended and reaped: not even a zombie is left


def _children() -> set[int]:
    """The ids of this process's child processes, zombies included."""
    children = set()
    for listing in Path("/proc/self/task").glob("*/children"):
        children.update(int(pid) for pid in listing.read_text().split())
    return children


@pytest.mark.django_db
def test_import_in_parallel_stores_the_same_events(tmp_path):
    path = write_json(
        tmp_path / "page.json", graph_page(*[GraphDirectoryAuditFactory() for _ in range(30)])
    )
    progress = []
    result = import_file(
        path,
        parallel=True,
        batch_size=7,
        on_progress=lambda done, size: progress.append((done, size)),
    )
    assert (result.new, result.errors) == (30, [])
    stored = json.loads(AuditEvent.objects.order_by("id").first().original)
    assert stored == json.loads(path.read_text())["value"][0]
    assert progress[-1][0] == progress[-1][1] == path.stat().st_size


@pytest.mark.django_db
@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "parallel"])
def test_both_ways_store_the_fingerprints_the_loader_computes(tmp_path, parallel):
    path = write_json(
        tmp_path / "page.json", graph_page(*[GraphDirectoryAuditFactory() for _ in range(12)])
    )
    assert import_file(path, parallel=parallel, batch_size=5).new == 12
    serial, _ = both_ways(path)
    expected = {record.entra_id: (record.content_hash, record.match_key) for record in serial}
    stored = {
        entra_id: (stored_hash, stored_key)
        for entra_id, stored_hash, stored_key in AuditEvent.objects.values_list(
            "entra_id", "content_hash", "match_key"
        )
    }
    assert stored == expected
    assert all(len(value) == 64 for pair in stored.values() for value in pair)


@pytest.mark.django_db
def test_import_in_parallel_keeps_nothing_from_a_bad_file(tmp_path):
    records = [GraphDirectoryAuditFactory() for _ in range(12)]
    records[9]["activityDateTime"] = "yesterday"
    path = write_json(tmp_path / "page.json", graph_page(*records))
    result = import_file(path, parallel=True, batch_size=3)
    assert result.failed and "record 10" in result.errors[0]
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db
def test_parallel_parse_carries_notes_and_strictness(tmp_path):
    records = [GraphDirectoryAuditFactory() for _ in range(12)]
    records[9]["result"] = "maybe"
    path = write_json(tmp_path / "page.json", graph_page(*records))
    strict = import_file(path, parallel=True, batch_size=3, strict=True)
    assert strict.failed and "record 10, field result" in strict.errors[0]
    assert AuditEvent.objects.count() == 0
    result = import_file(path, parallel=True, batch_size=3)
    assert (result.new, result.with_notes) == (12, 1)
    event = AuditEvent.objects.get(entra_id=records[9]["id"])
    assert (event.result, event.notes[0]["field"], event.notes[0]["raw"]) == ("", "result", "maybe")


def test_actors_sent_once_come_back_as_one_object_each(tmp_path):
    # More records than one chunk of the pipe, so that actors are sent whole only once and by
    # their number across chunks.
    actors = [GraphDirectoryAuditFactory() for _ in range(3)]
    records = [
        {**actors[number % 3], "id": str(uuid.UUID(int=number + 1))}
        for number in range(CHUNK_RECORDS + 500)
    ]
    serial, parallel = both_ways(write_json(tmp_path / "page.json", graph_page(*records)))
    assert parallel == serial
    initiators = {id(record.initiator) for record in parallel}
    assert len(initiators) == len({record.initiator for record in serial}) == 3


def test_stopping_early_leaves_no_reading_thread(tmp_path):
    path = write_json(
        tmp_path / "page.json", graph_page(*[GraphDirectoryAuditFactory() for _ in range(20)])
    )
    input_file = open_input(path)
    detected = detect(input_file)
    before = set(threading.enumerate())
    items = iter(ParallelParse(input_file, detected.format, detected.layout))
    next(items)
    items.close()
    assert set(threading.enumerate()) <= before


def test_a_failing_pipe_ends_the_records_with_an_error():
    class BrokenPipe:
        def read(self, size):
            raise OSError("read failed")

    messages = queue.Queue()
    reader = threading.Thread(target=parallel._read_messages, args=(BrokenPipe(), messages))
    reader.start()
    reader.join()
    assert messages.get_nowait() is parallel._ENDED


def test_what_the_parsing_process_writes_to_its_output_leaves_the_records_alone(
    tmp_path, monkeypatch, capfd
):
    """The messages have a pipe of their own: text the child's interpreter (or a tool wrapped
    around it) writes to its standard output goes there, not into the records' stream. Here a
    ``sitecustomize`` module, which every interpreter imports at start-up, writes some."""
    startup = tmp_path / "startup"
    startup.mkdir()
    (startup / "sitecustomize.py").write_text(
        "import sys\nsys.stdout.write('noise on the parsing process output\\n' * 100)\n"
        "sys.stdout.flush()\n"
    )
    monkeypatch.syspath_prepend(str(startup))  # the child's PYTHONPATH is this sys.path
    path = write_json(
        tmp_path / "page.json", graph_page(*[GraphDirectoryAuditFactory() for _ in range(30)])
    )
    serial, parallel_items = both_ways(path)
    assert parallel_items == serial
    assert "noise on the parsing process output" in capfd.readouterr().out


def test_the_parsing_process_packs_each_original_as_the_loader_would(tmp_path):
    """Given a dictionary, the parsing process sends each original's stored form, byte for byte
    what ``pack`` gives here, naming the dictionary it used; given none, it packs nothing."""
    path = write_json(
        tmp_path / "page.json", graph_page(*[GraphDirectoryAuditFactory() for _ in range(40)])
    )
    input_file = open_input(path)
    detected = detect(input_file)
    dictionary = Dictionary(7, shipped_data())
    records = list(ParallelParse(input_file, detected.format, detected.layout, dictionary))
    assert [record.packed_original for record in records] == [
        pack(record.original, dictionary) for record in records
    ]
    assert {record.packed_by for record in records} == {dictionary.identity}
    assert all(record.packed_original[0] == ZSTD for record in records)
    unpacked = list(ParallelParse(input_file, detected.format, detected.layout))
    assert {(record.packed_original, record.packed_by) for record in unpacked} == {(None, None)}
    assert unpacked == records


@pytest.mark.django_db
@pytest.mark.parametrize(
    "packed_with", ["the stored dictionary", "another with its id", "one stored later"]
)
def test_a_parallel_import_stores_originals_packed_with_its_batches_dictionary(
    tmp_path, monkeypatch, packed_with
):
    """The loader keeps what the parsing process packed only if its batch packs with that same
    dictionary: a record packed with another (one stored after the import began, or other
    bytes under the same id) is packed again, so every row names the dictionary its own
    transaction saw stored."""
    records = [GraphDirectoryAuditFactory() for _ in range(25)]
    path = write_json(tmp_path / "page.json", graph_page(*records))
    trained = train([json.dumps(record).encode() for record in records] * 4)
    newest = importer.newest_dictionary
    if packed_with == "another with its id":
        stored = writing_dictionary(connection)
        other = Dictionary(stored.pk, trained)
        monkeypatch.setattr(importer, "newest_dictionary", lambda _connection: other)
    elif packed_with == "one stored later":

        def then_store_another(connection):
            given = newest(connection)
            store_dictionary(connection, trained, origin="stored while an import runs")
            return given

        writing_dictionary(connection)
        monkeypatch.setattr(importer, "newest_dictionary", then_store_another)
    packed_here = []

    def counted_pack(text, dictionary):
        packed_here.append(text)
        return pack(text, dictionary)

    monkeypatch.setattr(loader, "pack", counted_pack)
    assert import_file(path, parallel=True, batch_size=10).new == 25
    assert len(packed_here) == (0 if packed_with == "the stored dictionary" else 25)
    stored = writing_dictionary(connection)
    assert (stored.data == trained) == (packed_with == "one stored later")
    with connection.cursor() as cursor:
        cursor.execute("SELECT original FROM logs_auditevent ORDER BY id")
        values = [bytes(row[0]) for row in cursor.fetchall()]
    originals = list(AuditEvent.objects.order_by("id").values_list("original", flat=True))
    assert values == [pack(original, stored) for original in originals]
    assert [json.loads(original) for original in originals] == records
    assert verify_chain().ok


def test_a_process_started_without_standard_streams_still_gets_its_records(tmp_path):
    """With its standard input and output closed, a process gets them back from ``os.pipe()``:
    the records' pipe must not become the child's standard output, where the noise written
    by its start-up module (``sitecustomize``) would go."""
    startup = tmp_path / "startup"
    startup.mkdir()
    (startup / "sitecustomize.py").write_text(
        "import os\ntry:\n    os.write(1, b'noise on the output' * 100)\nexcept OSError:\n"
        "    pass\n"
    )
    path = write_json(
        tmp_path / "page.json", graph_page(*[GraphDirectoryAuditFactory() for _ in range(30)])
    )
    script = (
        "import os, sys\n"
        "os.close(0)\n"
        "os.close(1)\n"
        f"sys.path.insert(0, {str(startup)!r})\n"
        "import django\n"
        "django.setup()\n"
        "from logs.ingest.detect import detect\n"
        "from logs.ingest.parallel import ParallelParse\n"
        "from logs.ingest.sources import open_input\n"
        f"input_file = open_input({str(path)!r})\n"
        "detected = detect(input_file)\n"
        "records = list(ParallelParse(input_file, detected.format, detected.layout))\n"
        "sys.stderr.write(f'{len(records)} records')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "PYTHONPATH": os.pathsep.join(sys.path),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stderr.endswith("30 records"), done.stderr
