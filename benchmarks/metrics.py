"""The metrics the harness knows: what to run in the child, and what to run for the raw limit."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    measure: str  # "module.function" in benchmarks/, run by the worker; returns {"rate": ...}
    raw_limit: str | None  # the same work done by the plain driver, or None if there is none
    report_memory: bool = False  # add a row with the measuring process's peak RSS
    # "empty": every run on a fresh empty database; "populated": all runs on one database
    # holding the N events (imported once and kept in benchmarks/out/ for later invocations);
    # "populated copy": every run on a throwaway copy of that database (for metrics that
    # delete: the populated database itself is never changed).
    database: str = "empty"
    # Its measurement imports the data file into an empty database: the first run's database
    # is kept as the populated one when there is none yet.
    populates: bool = False
    # Its figures are the same every run (sizes, not times): measured once, whatever --runs.
    once: bool = False
    # Measure the raw limit in every run, not the first only: where it is the same path with
    # one thing off, and the ratio between the two is the figure that matters.
    raw_every_run: bool = False


METRICS = {
    metric.name: metric
    for metric in [
        Metric(
            "ingest",
            "events/s",
            measure="ingest.import_rate",
            raw_limit="ingest.raw_insert_rate",
            report_memory=True,
            populates=True,
        ),
        # Returns {"rows": {page: ms}}: one table row per page (changelist views, detail, API),
        # each beside the time its SQL took in the same requests (the page's raw limit).
        Metric("browse", "ms", measure="browse.page_times", raw_limit=None, database="populated"),
        # gunicorn with 4 workers on a loopback port, 1, 4 and 16 clients for a fixed time each
        # asking for changelist views, then for API pages: throughput, p50, p95 and errors.
        Metric("load", "req/s", measure="load.load_figures", raw_limit=None, database="populated"),
        # The import with signed digests on; its comparison figure (the "raw" column) is the
        # same import without a key: the ratio must stay at or above 0.95 (digests cost at most
        # 5%). The page variant stores a page of 1,000 records per transaction, one digest each.
        Metric(
            "ingest-signed",
            "events/s",
            measure="ingest.import_rate_signed",
            raw_limit="ingest.import_rate",
            raw_every_run=True,
        ),
        Metric(
            "ingest-pages-signed",
            "events/s",
            measure="ingest.page_rate_signed",
            raw_limit="ingest.page_rate",
            raw_every_run=True,
        ),
        # Rows: pages of the Graph-compatible endpoint (logs/graph/): the first, a date range,
        # targetResources/any, startswith on the initiator's UPN, and a deep skiptoken page,
        # each beside its SQL's time in the same requests.
        Metric("graph", "ms", measure="graph.page_times", raw_limit=None, database="populated"),
        # Rows: all compliance questions for 30 days (target: under 1 s at 1,000,000 events),
        # with informational events excluded, the Insights page and /api/v1/insights/.
        Metric(
            "insights", "ms", measure="insights.report_times", raw_limit=None, database="populated"
        ),
        # Rows: seconds per export (CSV beside its raw limit) and each one's peak-memory growth.
        Metric(
            "export", "s", measure="export.export_figures", raw_limit=None, database="populated"
        ),
        # apply_retention with an archive, purging the oldest quarter of the events.
        Metric(
            "retention",
            "events/s",
            measure="retention.purge_rate",
            raw_limit=None,
            database="populated copy",
        ),
        # Every month before the newest event's archived and purged: on PostgreSQL whole
        # months, each partition dropped (logs.retention.months); and the same purge event by
        # event, as before partitions, on another copy.
        Metric(
            "retention-months",
            "events/s",
            measure="retention.whole_months_rate",
            raw_limit=None,
            database="populated copy",
        ),
        Metric(
            "retention-months-event-by-event",
            "events/s",
            measure="retention.whole_months_rate_event_by_event",
            raw_limit=None,
            database="populated copy",
        ),
        # The same with three legal holds active in the quarter (a date range, a correlation
        # id, a list of ids): what skipping held events costs.
        Metric(
            "retention-holds",
            "events/s",
            measure="retention.purge_rate_with_holds",
            raw_limit=None,
            database="populated copy",
        ),
        # PostgreSQL's date access path: the B-tree against BRIN, sizes and query times, on a
        # throwaway copy (it drops the B-tree). Nothing to compare on SQLite, which has no BRIN.
        Metric(
            "date-access",
            "ms",
            measure="date_access.date_access_times",
            raw_limit=None,
            database="populated copy",
        ),
        # Bytes on disk per event against the raw JSON's, by table and index (the vacuumed
        # file on SQLite, every table's total relation size on PostgreSQL), and the data
        # file's gzip ratio.
        Metric(
            "storage",
            "B/event",
            measure="storage.storage_figures",
            raw_limit=None,
            database="populated",
            once=True,
        ),
        # collect_source from a local Graph-compatible endpoint (another auditportal) into an
        # empty database; the raw limit is the ingest metric's (target: 5,000 events/s).
        Metric(
            "collect",
            "events/s",
            measure="collect.collect_rate",
            raw_limit="ingest.raw_insert_rate",
        ),
        # The same origin's pages read by the same client, nothing stored: what the endpoint
        # and the client allow, to tell the collector's storing from the origin's serving.
        Metric(
            "collect-fetch",
            "events/s",
            measure="collect.fetch_rate",
            raw_limit=None,
        ),
        # Seconds for verify_audit_log over every event (target: under 60 s at 1,000,000).
        Metric(
            "verify", "s", measure="retention.verify_seconds", raw_limit=None, database="populated"
        ),
    ]
}
