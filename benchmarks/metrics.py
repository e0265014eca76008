"""The metrics the harness knows: what to run in the child, and what to run for the raw limit."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    measure: str  # "module.function" in benchmarks/, run by the worker; returns {"rate": ...}
    raw_limit: str | None  # the same work done by the plain driver, or None if there is none
    report_memory: bool = False  # add a row with the measuring process's peak RSS


METRICS = {
    metric.name: metric
    for metric in [
        Metric(
            "ingest",
            "events/s",
            measure="ingest.import_rate",
            raw_limit="ingest.raw_insert_rate",
            report_memory=True,
        ),
    ]
}
