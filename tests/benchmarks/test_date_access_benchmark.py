"""The date access benchmark runs end to end on a tiny database; no timings are asserted."""

import json

import pytest
from django.db import connection

from benchmarks import date_access
from logs.ingest.importer import import_file

EVENTS = 200


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_both_indexes_are_measured_and_the_btree_is_the_one_dropped(tmp_path):
    from benchmarks.datafile import write_records

    path = tmp_path / "graph.json"
    write_records(path, EVENTS)
    assert import_file(path).new == EVENTS
    figures = date_access.date_access_times(str(path))
    # The worker sends the figures back as JSON: every one must be a plain number.
    assert json.loads(json.dumps(figures)) == figures
    for kind in ("B-tree", "BRIN"):
        assert figures["units"][f"{kind} size"] == "MiB"
        assert figures["rows"][f"{kind} size"] > 0
        for query in date_access.QUERIES:
            assert figures["rows"][f"{query}, {kind}"] > 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'logs_auditevent'")
        indexes = {name for (name,) in cursor.fetchall()}
    assert "event_date_brin" in indexes and "event_date_idx" not in indexes


def test_sqlite_has_nothing_to_compare():
    if connection.vendor == "postgresql":
        pytest.skip("SQLite only")
    assert date_access.date_access_times("unused") == {"rows": {}}
