"""The collect benchmark collects a small data file from an origin served by gunicorn, every
event once; no rate is asserted."""

from benchmarks.runner import run

EVENTS = 300


def test_every_event_of_the_origin_is_collected_once(tmp_path):
    rows = run(["collect"], ["sqlite"], events=EVENTS, runs=1, out_dir=tmp_path, log=None)
    [row] = [row for row in rows if row.metric == "collect"]
    assert row.unit == "events/s" and row.median > 0
    assert row.raw_values and row.raw_values[0] > 0
