"""The graph benchmark still runs end to end on a tiny database; no timings are asserted."""

import pytest

from benchmarks import graph
from benchmarks.databases import schema_tag
from benchmarks.datafile import GENERATOR_VERSION
from benchmarks.runner import run
from logs.ingest.importer import import_file
from logs.models import AccessRecord

EVENTS = 300


@pytest.mark.django_db
def test_every_page_answers_with_records_on_imported_data(tmp_path):
    from benchmarks.datafile import write_records

    path = tmp_path / "graph.json"
    write_records(path, EVENTS)
    assert import_file(path).new == EVENTS
    figures = graph.page_times(str(path))
    assert figures["events"] == EVENTS
    assert set(figures["rows"]) == {
        "graph first page",
        "graph date range",
        "graph targetResources/any id",
        "graph targetResources/any displayName",
        "graph startswith initiator UPN",
        "graph deep skiptoken",
    }
    assert all(value > 0 for value in figures["rows"].values())
    # Every request went the whole way, the access record included.
    assert AccessRecord.objects.filter(detail__via="graph").count() == 6 * (graph.REPEATS + 1)


def test_harness_reports_a_row_per_page(tmp_path):
    rows = run(["graph"], ["sqlite"], events=EVENTS, runs=1, out_dir=tmp_path, log=None)
    assert len(rows) == 6
    assert {row.unit for row in rows} == {"ms"} and all(row.median > 0 for row in rows)
    assert (tmp_path / f"populated-{EVENTS}-gen{GENERATOR_VERSION}_{schema_tag()}.sqlite3").exists()
