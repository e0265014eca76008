"""Retention and verification speed (run by ``benchmarks.worker``).

``purge_rate`` runs on a throwaway copy of the populated database: it purges the oldest quarter
of the events through ``apply_retention`` with an archive (compressed NDJSON and manifest, written
and synced under the output directory), the path of ``apply_retention --archive-dir``, and
reports events per second for the whole run, archive included. ``purge_rate_with_holds`` does
the same with three legal holds active (a date range, a correlation id and a list of ids, all
inside the purged quarter), so that the cost of skipping held events shows beside it.
``verify_seconds`` times
``verify_audit_log``'s chain walk over every stored event of the populated database, which it
only reads.
"""

import shutil
import tempfile
import time
from datetime import UTC, timedelta
from pathlib import Path

from logs.integrity import verify_chain
from logs.models import AuditEvent
from logs.retention.holds import place_hold
from logs.retention.policy import RetentionPolicy
from logs.retention.run import apply_retention

PURGED_SHARE = 0.25
DAYS = 365
# The held share of the purged quarter, in a date range from its middle; and listed ids.
HELD_RANGE_SHARE = 0.02
HELD_IDS = 1_000


def purge_rate(path: str) -> dict:
    """Events per second for archiving and purging the oldest quarter of the stored events."""
    return _purge(path, _quarter_boundary())


def purge_rate_with_holds(path: str) -> dict:
    """``purge_rate`` with three legal holds active inside the quarter: the rate counts the
    events purged; the held ones stay."""
    stored = AuditEvent.objects.count()
    quarter = int(stored * PURGED_SHARE)
    dates = AuditEvent.objects.order_by("activity_datetime", "id").values_list(
        "activity_datetime", flat=True
    )
    middle = quarter // 2
    since, until = dates[middle], dates[middle + int(quarter * HELD_RANGE_SHARE)]
    place_hold(
        "benchmark range",
        reason="benchmark",
        filters={"since": since.isoformat(), "until": until.isoformat()},
    )
    correlation = (
        AuditEvent.objects.order_by("activity_datetime", "id")
        .values_list("correlation_id", flat=True)[quarter // 3]
    )  # fmt: skip
    place_hold("benchmark correlation", reason="benchmark", filters={"correlation_id": correlation})
    step = max(1, quarter // HELD_IDS)
    listed = AuditEvent.objects.order_by("activity_datetime", "id").values_list(
        "entra_id", flat=True
    )[:quarter:step]
    place_hold("benchmark ids", reason="benchmark", event_ids=list(listed))
    figures = _purge(path, dates[quarter])
    return figures


def whole_months_rate(path: str) -> dict:
    """Events per second for archiving and purging every month before the newest event's:
    on PostgreSQL each is a whole expired month, archived and its partition dropped."""
    return _purge(path, _newest_month_start())


def whole_months_rate_event_by_event(path: str) -> dict:
    """``whole_months_rate``'s purge done event by event, as before month partitions."""
    return _purge(path, _newest_month_start(), whole_months=False)


def _newest_month_start():
    newest = AuditEvent.objects.order_by("-activity_datetime").values_list(
        "activity_datetime", flat=True
    )[0]
    return newest.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _quarter_boundary():
    stored = AuditEvent.objects.count()
    return AuditEvent.objects.order_by("activity_datetime", "id").values_list(
        "activity_datetime", flat=True
    )[int(stored * PURGED_SHARE)]


def _purge(path: str, boundary, whole_months: bool = True) -> dict:
    # "Now" is chosen so that the retention cutoff falls on the quarter's boundary.
    now = boundary + timedelta(days=DAYS)
    archive_dir = Path(tempfile.mkdtemp(prefix="retention-", dir=Path(path).parent))
    try:
        started = time.perf_counter()
        result = apply_retention(
            RetentionPolicy(DAYS), archive_dir=archive_dir, now=now, whole_months=whole_months
        )
        seconds = time.perf_counter() - started
        archive_bytes = result.archived_bytes
    finally:
        shutil.rmtree(archive_dir, ignore_errors=True)
    return {
        "rate": result.purged / seconds,
        "purged": result.purged,
        "held": result.held_total,
        "seconds": seconds,
        "archive_mb": archive_bytes / 2**20,
    }


def verify_seconds(path: str) -> dict:
    """Seconds for verify_audit_log's walk of the whole chain; ``path`` is unused."""
    started = time.perf_counter()
    result = verify_chain()
    seconds = time.perf_counter() - started
    if not result.ok:
        problem = result.broken or result.derived[0]
        raise RuntimeError(f"the populated database does not verify: {problem}")
    return {"rows": {"verify": seconds}, "units": {"verify": "s"}, "events": result.events}
