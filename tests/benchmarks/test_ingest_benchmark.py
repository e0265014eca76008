"""The ingest benchmark still runs end to end, with a tiny file; no timings are asserted."""

import sqlite3

import pytest

from benchmarks import ingest
from benchmarks.databases import schema_tag
from benchmarks.datafile import GENERATOR_VERSION, iter_records, write_records
from benchmarks.runner import run
from logs.models import AuditEvent, ChainDigest

EVENTS = 200


@pytest.fixture
def graph_file(tmp_path):
    path = tmp_path / "graph.json"
    write_records(path, EVENTS)
    return path


def test_generated_records_are_distinct_events():
    records = list(iter_records(EVENTS))
    assert len({record["id"] for record in records}) == EVENTS
    assert len({record["correlationId"] for record in records}) == EVENTS
    assert len({record["activityDateTime"] for record in records}) == EVENTS
    assert len({record["activityDisplayName"] for record in records}) > 10


@pytest.mark.django_db
def test_import_rate_stores_every_record(graph_file):
    figures = ingest.import_rate(str(graph_file))

    assert figures["events"] == EVENTS
    assert figures["rate"] > 0
    assert AuditEvent.objects.count() == EVENTS


@pytest.mark.django_db
def test_raw_insert_rate_inserts_every_record(graph_file):
    figures = ingest.raw_insert_rate(str(graph_file))

    assert figures["events"] == EVENTS
    assert figures["rate"] > 0
    assert AuditEvent.objects.count() == EVENTS


@pytest.mark.django_db
def test_the_signed_import_writes_its_digest_and_leaves_the_settings_as_they_were(
    graph_file, settings
):
    figures = ingest.import_rate_signed(str(graph_file))

    assert figures["events"] == EVENTS
    assert ChainDigest.objects.get().last_seq == EVENTS
    assert settings.AUDITPORTAL_SIGNING_KEY == ""


@pytest.mark.django_db
def test_the_unsigned_page_rate_stores_every_record_and_no_digest(graph_file):
    unsigned = ingest.page_rate(str(graph_file))
    assert unsigned["events"] == EVENTS
    assert AuditEvent.objects.count() == EVENTS
    assert not ChainDigest.objects.exists()


@pytest.mark.django_db
def test_the_signed_page_rate_writes_one_digest_per_page(tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "PAGE", 50)
    path = tmp_path / "graph.json"
    write_records(path, EVENTS)
    figures = ingest.page_rate_signed(str(path))
    assert figures["events"] == EVENTS
    assert ChainDigest.objects.count() == EVENTS // 50
    assert 0 < figures["digest_share"] < 1


def test_harness_reports_ingest_beside_its_raw_limit(tmp_path):
    # The whole path: data file, fresh SQLite database, child processes, table rows.
    rows = run(["ingest"], ["sqlite"], events=EVENTS, runs=1, out_dir=tmp_path, log=None)

    rate, memory = rows
    assert (rate.metric, rate.db) == ("ingest", "sqlite")
    assert rate.median > 0
    assert rate.raw_median > 0
    assert memory.median > 0


def test_the_first_import_is_kept_as_the_populated_database(tmp_path):
    rows = run(["ingest"], ["sqlite"], events=EVENTS, runs=2, out_dir=tmp_path, log=None)

    rate = rows[0]
    assert (len(rate.values), len(rate.raw_values)) == (2, 1)
    populated = tmp_path / f"populated-{EVENTS}-gen{GENERATOR_VERSION}_{schema_tag()}.sqlite3"
    with sqlite3.connect(populated) as connection:
        (count,) = connection.execute("SELECT count(*) FROM logs_auditevent").fetchone()
    assert count == EVENTS
