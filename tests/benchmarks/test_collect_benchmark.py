"""The collect benchmark collects a small data file from an origin served by gunicorn, every
event once, and collect-fetch reads the same origin's pages, every event once; no rate is
asserted."""

from benchmarks.runner import run

# More than two pages of 1,000: nextLinks are followed.
EVENTS = 2500


def test_every_event_of_the_origin_is_collected_once(tmp_path):
    rows = run(["collect"], ["sqlite"], events=EVENTS, runs=1, out_dir=tmp_path, log=None)
    [row] = [row for row in rows if row.metric == "collect"]
    assert row.unit == "events/s" and row.median > 0
    assert row.raw_values and row.raw_values[0] > 0


def test_every_event_of_the_origin_is_read_once_when_only_fetching(tmp_path):
    """fetch_rate raises unless the pages held exactly the origin's events."""
    rows = run(["collect-fetch"], ["sqlite"], events=EVENTS, runs=1, out_dir=tmp_path, log=None)
    [row] = [row for row in rows if row.metric == "collect-fetch"]
    assert row.unit == "events/s" and row.median > 0
    assert not row.raw_values
