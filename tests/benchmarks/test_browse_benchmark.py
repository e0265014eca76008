"""The browse benchmark still runs end to end on a tiny database; no timings are asserted."""

import pytest

from benchmarks import browse
from benchmarks.databases import schema_tag
from benchmarks.datafile import GENERATOR_VERSION
from benchmarks.runner import run
from logs.ingest.importer import import_file

EVENTS = 200


@pytest.mark.django_db
def test_every_page_answers_on_imported_data(tmp_path):
    from benchmarks.datafile import write_records

    path = tmp_path / "graph.json"
    write_records(path, EVENTS)
    assert import_file(path).new == EVENTS
    figures = browse.page_times(str(path))
    assert figures["events"] == EVENTS
    names = set(figures["rows"])
    assert {"changelist default", "changelist 3 filters", "detail page", "api deep cursor"} <= names
    assert "detail page in a filtered list" in names
    assert len([name for name in names if name.startswith("changelist ")]) == 27
    assert {
        "changelist target part",
        "changelist broad search part",
        "changelist sort initiator",
        "api sorted by initiator",
    } <= names
    assert all(value > 0 for value in figures["rows"].values())


def test_harness_reports_a_row_per_page(tmp_path):
    rows = run(["browse"], ["sqlite"], events=EVENTS, runs=1, out_dir=tmp_path, log=None)
    assert len(rows) == 34
    assert {row.unit for row in rows} == {"ms"} and all(row.median > 0 for row in rows)
    assert (tmp_path / f"populated-{EVENTS}-gen{GENERATOR_VERSION}_{schema_tag()}.sqlite3").exists()
