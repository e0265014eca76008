"""The export benchmark still runs end to end on a tiny database; no timings are asserted."""

import pytest

from benchmarks import export
from benchmarks.runner import run
from logs.ingest.importer import import_file

EVENTS = 200


@pytest.mark.django_db
def test_export_figures_on_imported_data(tmp_path):
    from benchmarks.datafile import write_records

    path = tmp_path / "graph.json"
    write_records(path, EVENTS)
    assert import_file(path).new == EVENTS
    figures = export.export_figures(str(path))
    assert figures["events"] == EVENTS
    assert set(figures["rows"]) == {
        "export csv",
        "export json",
        "export csv RSS growth",
        "export json RSS growth",
        "export csv, sorted by initiator",
        "export csv, sorted by initiator RSS growth",
    }
    assert figures["units"]["export csv"] == "s" and figures["raw"]["export csv"] > 0


def test_harness_reports_export_rows_beside_the_raw_limit(tmp_path):
    rows = run(["export"], ["sqlite"], events=EVENTS, runs=1, out_dir=tmp_path, log=None)
    by_name = {row.metric: row for row in rows}
    assert by_name["export csv"].raw_median > 0 and by_name["export csv"].ratio is not None
    assert by_name["export csv RSS growth"].unit == "MiB"


@pytest.mark.django_db
def test_more_events_than_the_cap_export_the_newest_then_every_event(tmp_path, monkeypatch):
    from benchmarks.datafile import write_records

    path = tmp_path / "graph.json"
    write_records(path, EVENTS)
    assert import_file(path).new == EVENTS
    monkeypatch.setattr(export, "EXPORTED", EVENTS // 2)
    figures = export.export_figures(str(path))
    assert figures["events"] == EVENTS
    assert {"export csv, every event", "export csv, every event RSS growth"} <= set(figures["rows"])
    assert figures["raw"]["export csv"] > 0
