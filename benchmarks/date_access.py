"""The date access path on PostgreSQL: the B-tree the schema uses against a BRIN index
(run by ``benchmarks.worker`` on a throwaway copy of the populated database).

Every view reaches events by date first. A B-tree on (date, id) answers any range and the
newest-first order directly but grows with the table (tens of bytes per event); a BRIN index
keeps one summary per block range, a few hundred kilobytes for millions of events, but only
works while the table's physical order follows the date, and cannot return rows in order. The
same queries are timed with each: the changelist's first page (newest 100), one day's events
counted, and a 30-day count by category (the reports' shape). Median of ``REPEATS`` after a
warm-up; index sizes in MiB.
"""

import statistics
import time

from django.db import connection

REPEATS = 5

QUERIES = {
    "newest 100 events": """
        SELECT id FROM logs_auditevent ORDER BY activity_datetime DESC, id DESC LIMIT 100""",
    "one day counted": """
        SELECT count(*) FROM logs_auditevent
         WHERE activity_datetime >= %(newest)s - interval '1 day'
           AND activity_datetime <= %(newest)s""",
    "30 days by category": """
        SELECT category_id, count(*) FROM logs_auditevent
         WHERE activity_datetime >= %(newest)s - interval '30 days'
           AND activity_datetime <= %(newest)s
         GROUP BY category_id""",
}


def date_access_times(path: str) -> dict:
    """Rows "<query>, <index>" in ms and "<index> size" in MiB; ``path`` is unused."""
    if connection.vendor != "postgresql":
        return {"rows": {}}
    rows, units = {}, {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(activity_datetime) FROM logs_auditevent")
        newest = cursor.fetchone()[0]
        cursor.execute("SET max_parallel_workers_per_gather = 0")
        _measure(cursor, "B-tree", newest, rows, units)
        cursor.execute(
            "CREATE INDEX event_date_brin ON logs_auditevent USING brin (activity_datetime)"
        )
        # The other indexes that start with the date, so that only BRIN is left to use.
        cursor.execute("DROP INDEX event_date_idx")
        cursor.execute("ANALYZE logs_auditevent")
        _measure(cursor, "BRIN", newest, rows, units, index="event_date_brin")
    return {"rows": rows, "units": units}


def _measure(cursor, kind, newest, rows, units, index="event_date_idx") -> None:
    # A partitioned index (the events' month partitions, migration 0026) has no storage of its
    # own: its size is its partitions' indexes'.
    cursor.execute(
        "SELECT coalesce((SELECT sum(pg_relation_size(relid)) "
        "FROM pg_partition_tree(%s::regclass)), pg_relation_size(%s::regclass))",
        [index, index],
    )
    # sum() of bigints is numeric (a Decimal), which the worker cannot send back as JSON.
    rows[f"{kind} size"] = float(cursor.fetchone()[0]) / 2**20
    units[f"{kind} size"] = "MiB"
    for name, sql in QUERIES.items():
        times = []
        for attempt in range(REPEATS + 1):
            started = time.perf_counter()
            cursor.execute(sql, {"newest": newest})
            cursor.fetchall()
            if attempt:
                times.append((time.perf_counter() - started) * 1000)
        rows[f"{name}, {kind}"] = statistics.median(times)
        units[f"{name}, {kind}"] = "ms"
