"""The load benchmark serves a tiny populated database with gunicorn; no rates are asserted."""

from benchmarks import load
from benchmarks.runner import run

EVENTS = 200


def test_every_mix_and_client_count_has_its_four_figures(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCHMARK_LOAD_SECONDS", "0.5")
    rows = run(["load"], ["sqlite"], events=EVENTS, runs=1, out_dir=tmp_path, log=None)
    by_name = {row.metric: row for row in rows}
    for mix in load.MIXES:
        for clients in load.CLIENTS:
            label = f"load {mix}, {clients} client{'s' if clients > 1 else ''}"
            assert by_name[label].unit == "req/s" and by_name[label].median > 0
            assert by_name[f"{label} p50"].median <= by_name[f"{label} p95"].median
            assert by_name[f"{label} errors"].median == 0
    assert len(rows) == len(load.MIXES) * len(load.CLIENTS) * 4
