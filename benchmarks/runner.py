"""Running metrics on databases R times each, every measurement on a fresh database."""

import sys
from pathlib import Path

from benchmarks.databases import OUT_DIR, Databases
from benchmarks.datafile import data_file
from benchmarks.metrics import METRICS
from benchmarks.report import Row
from benchmarks.worker import run_in_child


def run(
    metric_names, engines, *, events: int, runs: int, out_dir: Path = OUT_DIR, log=sys.stderr
) -> list[Row]:
    """Rows for every metric on every engine; progress goes to ``log``."""
    path = data_file(out_dir, events)
    rows = []
    for engine in engines:
        databases = Databases(engine, out_dir)
        for name in metric_names:
            rows.extend(_measure(METRICS[name], databases, path, events, runs, log))
    return rows


def _measure(metric, databases, path: Path, events: int, runs: int, log) -> list[Row]:
    if metric.once:
        runs = 1
    if metric.database == "populated":
        return _measure_pages(metric, databases, path, events, runs, log)
    if metric.database == "populated copy":
        return _measure_on_copies(metric, databases, path, events, runs, log)
    rate = Row(metric.name, databases.engine, metric.unit)
    memory = Row(f"{metric.name} peak RSS", databases.engine, "MiB")
    for number in range(1, runs + 1):
        figures = _checked(metric.measure, databases.fresh(), path, events)
        rate.values.append(figures["rate"])
        memory.values.append(figures["peak_rss_mb"])
        if metric.populates:
            databases.keep_as_populated(events)
        line = f"{metric.name} {databases.engine} run {number}/{runs}: {figures['rate']:,.0f}"
        if "digest_share" in figures:
            line += f" (digests {figures['digest_share']:.2%} of the time)"
        # The raw limit is the same work each run, as long as the import itself: measured in
        # the first run only, so that three runs at a million events fit the half hour.
        if metric.raw_limit and (number == 1 or metric.raw_every_run):
            raw = _checked(metric.raw_limit, databases.fresh(), path, events)
            rate.raw_values.append(raw["rate"])
            line += f" (raw {raw['rate']:,.0f})"
        print(f"{line} {metric.unit}, peak RSS {figures['peak_rss_mb']:,.0f} MiB", file=log)
    return [rate, memory] if metric.report_memory else [rate]


def _measure_on_copies(metric, databases, path: Path, events: int, runs: int, log) -> list[Row]:
    """A metric that changes the data: each run on a fresh copy of the populated database.
    Its figures are one rate ({"rate": ...}) or several rows, as for ``_measure_pages``."""
    databases.populated(path, events, log=log)
    rate = Row(metric.name, databases.engine, metric.unit)
    rows: dict[str, Row] = {}
    for number in range(1, runs + 1):
        figures = run_in_child(metric.measure, databases.populated_copy(path, events), str(path))
        if "rows" in figures:
            _add_rows(rows, figures, metric, databases.engine)
            print(f"{metric.name} {databases.engine} run {number}/{runs} done", file=log)
            continue
        rate.values.append(figures["rate"])
        print(
            f"{metric.name} {databases.engine} run {number}/{runs}: {figures['rate']:,.0f} "
            f"{metric.unit} ({figures.get('purged', 0):,} events)",
            file=log,
        )
    return list(rows.values()) if rows or not rate.values else [rate]


def _checked(function: str, database_url: str, path: Path, events: int) -> dict:
    figures = run_in_child(function, database_url, str(path))
    if figures.get("events", events) != events:
        raise RuntimeError(f"{function} stored {figures['events']} events, expected {events}")
    return figures


def _measure_pages(metric, databases, path: Path, events: int, runs: int, log) -> list[Row]:
    """A metric that reports several figures ({"rows": {name: value}}) on the populated data;
    optionally {"units": {name: unit}} where a row's unit is not the metric's, and
    {"raw": {name: value}}: the raw limit measured in the same run for that row."""
    database_url = databases.populated(path, events, log=log)
    rows: dict[str, Row] = {}
    for number in range(1, runs + 1):
        figures = _checked(metric.measure, database_url, path, events)
        units = figures.get("units", {})
        _add_rows(rows, figures, metric, databases.engine)
        slowest = max(figures["rows"].items(), key=lambda item: item[1])
        print(
            f"{metric.name} {databases.engine} run {number}/{runs}: "
            f"{'largest' if metric.once else 'slowest'} {slowest[0]} "
            f"{slowest[1]:,.0f} {units.get(slowest[0], metric.unit)}",
            file=log,
        )
    return list(rows.values())


def _add_rows(rows: dict, figures: dict, metric, engine: str) -> None:
    units = figures.get("units", {})
    for name, value in figures["rows"].items():
        row = rows.setdefault(name, Row(name, engine, units.get(name, metric.unit)))
        row.values.append(value)
        if name in figures.get("raw", {}):
            row.raw_values.append(figures["raw"][name])
