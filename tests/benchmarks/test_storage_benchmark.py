"""The storage benchmark gives every byte of the database an owner, on a tiny database."""

import gzip
import os
import sqlite3
from contextlib import closing

import pytest
from django.db import connection

from benchmarks import storage
from benchmarks.datafile import write_records
from benchmarks.runner import run
from logs.ingest.importer import import_file

EVENTS = 200
EVENT_TABLES = ("logs_auditevent", "logs_target", "logs_modifiedproperty", "logs_initiator")


@pytest.fixture
def imported(tmp_path):
    path = tmp_path / "graph.json"
    write_records(path, EVENTS)
    assert import_file(path).new == EVENTS
    return path


def _owned(measured: storage.Storage) -> dict[str, int]:
    owners = dict(measured.owners)
    assert len(owners) == len(measured.owners), "an owner is listed twice"
    return owners


# VACUUM cannot run inside a transaction: these tests commit (and flush afterwards).
@pytest.mark.django_db(transaction=True)
def test_sqlite_owners_add_up_to_the_vacuumed_file_and_name_every_index(imported, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    copy = tmp_path / "copy.sqlite3"
    with connection.cursor() as cursor:
        cursor.execute("VACUUM INTO %s", [str(copy)])
    measured = storage.sqlite_owners(copy)
    owners = _owned(measured)
    assert measured.total == os.path.getsize(copy)
    assert sum(owners.values()) == measured.total
    with sqlite3.connect(copy) as database:
        for table in EVENT_TABLES:
            assert owners[table] > 0
            names = [row[1] for row in database.execute(f"PRAGMA index_list('{table}')")]
            assert names, table
            for name in names:
                if name.startswith("sqlite_autoindex_"):
                    columns = [row[2] for row in database.execute(f"PRAGMA index_info('{name}')")]
                    name = f"unique ({', '.join(columns)})"
                assert owners[f"{table} {name}"] > 0
    assert owners["logs_auditevent unique (entra_id)"] > 0
    # Django's own tables are not broken down.
    assert not any(owner.startswith("auth_") for owner in owners)
    assert owners[storage.REST] > 0


def test_sqlite_free_pages_have_an_owner_too(tmp_path):
    path = tmp_path / "freed.sqlite3"
    with closing(sqlite3.connect(path)) as database:
        database.execute("CREATE TABLE logs_auditevent (id INTEGER PRIMARY KEY, original TEXT)")
        database.execute("CREATE INDEX event_original_idx ON logs_auditevent (original)")
        database.executemany(
            "INSERT INTO logs_auditevent (original) VALUES (?)",
            [(f"record {number} " * 40,) for number in range(2_000)],
        )
        database.execute("DELETE FROM logs_auditevent WHERE id > 10")
        database.commit()
        free_pages = database.execute("PRAGMA freelist_count").fetchone()[0]
        page_size = database.execute("PRAGMA page_size").fetchone()[0]
    assert free_pages > 0
    owners = _owned(storage.sqlite_owners(path))
    assert owners[storage.FREE_PAGES] == free_pages * page_size
    assert owners["logs_auditevent"] > 0 and owners["logs_auditevent event_original_idx"] > 0
    assert sum(owners.values()) == os.path.getsize(path)


@pytest.mark.django_db(transaction=True)
def test_sqlite_figures_per_event_beside_the_raw_json(imported):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    figures = storage.storage_figures(str(imported))
    assert figures["events"] == EVENTS
    rows, raw = figures["rows"], figures["raw"]
    raw_per_event = os.path.getsize(imported) / EVENTS
    assert raw["storage"] == raw_per_event
    parts = sum(value for name, value in rows.items() if name.startswith("storage logs_"))
    parts += rows[f"storage {storage.REST}"] + rows.get(f"storage {storage.FREE_PAGES}", 0)
    assert parts == pytest.approx(rows["storage"])
    assert rows["storage total"] == pytest.approx(rows["storage"] * EVENTS / storage.MIB)
    # The test database lives in memory: there is no file before VACUUM to measure.
    assert "storage before VACUUM" not in rows
    assert figures["units"]["data file gzip ratio"] == "raw/gzip"
    assert "data file gzip ratio" not in raw


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_postgres_owners_add_up_to_every_table_and_name_every_index(imported):
    measured = storage.measure_postgres()
    owners = _owned(measured)
    assert sum(owners.values()) == measured.total
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sum(pg_total_relation_size(format('%I.%I', schemaname, tablename))) "
            "FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        )
        assert measured.total == cursor.fetchone()[0]
        for table in EVENT_TABLES:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
            names = [name for (name,) in cursor.fetchall()]
            assert names, table
            for name in names:
                assert owners[f"{table} {name}"] > 0
            # The table and, when partitioned (the events, migration 0026), its partitions.
            cursor.execute(
                "SELECT coalesce((SELECT sum(pg_total_relation_size(relid)) "
                "FROM pg_partition_tree(%s::regclass)), pg_total_relation_size(%s::regclass))",
                [table, table],
            )
            (table_total,) = cursor.fetchone()
            table_parts = [size for owner, size in owners.items() if owner.split()[0] == table]
            assert sum(table_parts) == table_total
            assert owners[table] > 0 and f"{table} TOAST" in owners
    assert not any(owner.startswith("auth_") for owner in owners)
    figures = storage.storage_figures(str(imported))
    assert figures["rows"]["storage"] == pytest.approx(measured.total / EVENTS)
    assert "storage before VACUUM" not in figures["rows"]


def test_gzip_ratio_is_the_file_over_its_gzip(tmp_path):
    repetitive = tmp_path / "repetitive.json"
    repetitive.write_bytes(b'{"activityDisplayName":"Update user"},' * 20_000)
    random_bytes = tmp_path / "random.bin"
    random_bytes.write_bytes(os.urandom(3 * storage.MIB + 17))
    for path in (repetitive, random_bytes):
        data = path.read_bytes()
        expected = len(data) / len(gzip.compress(data, compresslevel=storage.GZIP_LEVEL))
        # The stream's header differs from gzip.compress's by its timestamp and name only.
        assert storage.gzip_ratio(path) == pytest.approx(expected, rel=1e-3)
    assert storage.gzip_ratio(random_bytes) < 1.0 < 10 < storage.gzip_ratio(repetitive)


def test_harness_measures_storage_once_beside_the_raw_json(tmp_path):
    rows = run(["storage"], ["sqlite"], events=EVENTS, runs=3, out_dir=tmp_path, log=None)
    by_name = {row.metric: row for row in rows}
    total = by_name["storage"]
    assert len(total.values) == 1, "sizes are measured once, whatever the number of runs"
    (data_file,) = tmp_path.glob(f"graph-{EVENTS}-*.json")
    assert total.raw_median == os.path.getsize(data_file) / EVENTS
    assert total.ratio == total.median / total.raw_median
    # The populated file as it stands holds at least what VACUUM writes of it.
    assert by_name["storage before VACUUM"].median >= total.median
    assert by_name["storage logs_auditevent"].unit == "B/event"
    assert by_name["storage total"].unit == "MiB"
