"""The insights benchmark still runs end to end on a tiny database; no timings are asserted."""

import pytest

from benchmarks import insights
from logs.ingest.importer import import_file

EVENTS = 200


@pytest.mark.django_db
def test_every_row_answers_on_imported_data(tmp_path):
    from benchmarks.datafile import write_records

    path = tmp_path / "graph.json"
    write_records(path, EVENTS)
    assert import_file(path).new == EVENTS
    figures = insights.report_times(str(path))
    assert figures["events"] == EVENTS
    assert set(figures["rows"]) == {
        "all questions, 30 days",
        "all questions, 30 days, informational excluded",
        "insights page",
        "api insights",
    }
    assert all(value > 0 for value in figures["rows"].values())
