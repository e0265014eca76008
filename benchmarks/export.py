"""Export speed and memory on a populated database (run by ``benchmarks.worker``).

The newest 250,000 stored events (``EXPORTED``, the web's cap; all of them if there are fewer)
are exported as portal-form CSV and as JSON through ``logs.exports.Export``, the code path of
``export_audit_logs`` and the web, and written to /dev/null; with more stored, every event is
exported once more as CSV, for its memory. The raw limit, measured in the same run, reads the
same information with three plain SQL statements (``RAW_QUERIES``): the same events with the
lookups and initiator fields the portal form shows, newest first; their targets; their
modified properties. SQLite's rows are written by ``csv.writer`` (every cell
quoted), PostgreSQL's by ``COPY (SELECT ...) TO STDOUT`` itself. It does not lay targets and
properties out into the portal's 86 columns, so it writes fewer bytes than the export: it is
the floor, the time the database needs to hand the rows out as CSV.

Memory is the growth of the process's peak resident set during each export, above what it held
before (the peak is reset first, through /proc/self/clear_refs), so Django's own footprint is
not counted: it must stay flat as the number of events grows.
"""

import csv
import os
import time

from django.db import connection

from logs.exports import Export
from logs.models import AuditEvent
from logs.sorting import ColumnSort

# The portal's and the API's cap: the export the targets are about. A database holding more
# also exports every event once, to show that memory does not grow with the number of rows.
EXPORTED = 250_000

_NEWEST = "SELECT id FROM logs_auditevent ORDER BY activity_datetime DESC, id DESC LIMIT {limit}"
RAW_QUERIES = [
    """SELECT e.activity_datetime, e.correlation_id, s.name, c.name, a.name, e.result,
              e.result_reason, u.text, i.kind, i.user_display_name,
              i.app_display_name, i.user_object_id, i.user_principal_name,
              e.initiator_ip_address, i.home_tenant_id, i.home_tenant_name,
              i.service_principal_id, i.service_principal_name, d.entries
         FROM logs_auditevent e
         JOIN logs_service s ON s.id = e.service_id
         JOIN logs_category c ON c.id = e.category_id
         JOIN logs_activity a ON a.id = e.activity_id
         LEFT JOIN logs_initiator i ON i.id = e.initiator_id
         LEFT JOIN logs_detailslist d ON d.id = e.details_list_id
         LEFT JOIN logs_useragent u ON u.id = e.user_agent_id
        ORDER BY e.activity_datetime DESC, e.id DESC
        LIMIT {limit}""",
    f"""SELECT event_id, position, type, display_name, object_id, user_principal_name
         FROM logs_target WHERE event_id IN ({_NEWEST})
        ORDER BY event_id, position""",
    f"""SELECT target_id, position, name, old_value, new_value
         FROM logs_modifiedproperty
        WHERE target_id IN (SELECT id FROM logs_target WHERE event_id IN ({_NEWEST}))
        ORDER BY target_id, position""",
]


def export_figures(path: str) -> dict:
    """Seconds per export and peak-memory growth; ``path`` is unused: the data is stored."""
    if connection.vendor == "sqlite":
        # Reads copied, not memory-mapped, as an export reads (logs.exports.sqlite_reads_copied):
        # the raw limit reads the same way, and no mapped page sits in the memory baseline.
        connection.ensure_connection()
        connection.connection.execute("PRAGMA mmap_size = 0")
    stored = AuditEvent.objects.count()
    limit = min(stored, EXPORTED)
    rows, units, raw = {}, {}, {}
    raw["export csv"] = raw_csv_seconds(limit)
    for format in ("csv", "json"):
        _export(f"export {format}", format, limit, rows, units)
    # Sorted by initiator, as the listing can be: a tenant's tens of thousands of initiators
    # are walked in batches of values (logs.sorting.ColumnSort.walk_in_batches).
    by_initiator = ColumnSort.named("initiator")
    _export("export csv, sorted by initiator", "csv", limit, rows, units, by_initiator)
    if stored > EXPORTED:
        _export("export csv, every event", "csv", None, rows, units)
    return {"rows": rows, "units": units, "raw": raw, "events": stored}


def _export(
    name: str, format: str, limit: int | None, rows: dict, units: dict, column_sort=None
) -> None:
    baseline = _reset_peak_rss()
    started = time.perf_counter()
    with open(os.devnull, "w", encoding="utf-8", newline="") as sink:
        export = Export(AuditEvent.objects.all(), format, limit=limit, column_sort=column_sort)
        for text in export:
            sink.write(text)
    rows[name] = time.perf_counter() - started
    units[name] = "s"
    rows[f"{name} RSS growth"] = _peak_rss_mb() - baseline
    units[f"{name} RSS growth"] = "MiB"
    if limit is not None and export.rows_written != limit:
        raise RuntimeError(f"{name} wrote {export.rows_written} events, not {limit}")


def raw_csv_seconds(limit: int) -> float:
    """The same columns of the newest ``limit`` events by plain SQL, to CSV: the fastest this
    database can hand them out."""
    queries = [query.format(limit=int(limit)) for query in RAW_QUERIES]
    connection.ensure_connection()
    started = time.perf_counter()
    with open(os.devnull, "w", encoding="utf-8", newline="") as sink:
        if connection.vendor == "postgresql":
            with connection.connection.cursor() as cursor:
                for query in queries:
                    with cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)") as copy:
                        for block in copy:
                            sink.write(bytes(block).decode())
        else:
            writer = csv.writer(sink, quoting=csv.QUOTE_ALL)
            cursor = connection.connection.cursor()
            for query in queries:
                cursor.execute(query)
                while batch := cursor.fetchmany(2000):
                    writer.writerows(batch)
            cursor.close()
    return time.perf_counter() - started


def _peak_rss_mb() -> float:
    return _status_mb("VmHWM")


def _reset_peak_rss() -> float:
    """Reset the peak to the current resident set (Linux 4.0+); return the current one."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass
    return _status_mb("VmRSS")


def _status_mb(field: str) -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not found in /proc/self/status")
