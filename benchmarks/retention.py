"""Retention and verification speed (run by ``benchmarks.worker``).

``purge_rate`` runs on a throwaway copy of the populated database: it purges the oldest quarter
of the events through ``apply_retention`` with an archive (gzip NDJSON and manifest, written
and synced under the output directory), the path of ``apply_retention --archive-dir``, and
reports events per second for the whole run, archive included. ``verify_seconds`` times
``verify_audit_log``'s chain walk over every stored event of the populated database, which it
only reads.
"""

import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from logs.integrity import verify_chain
from logs.models import AuditEvent
from logs.retention.policy import RetentionPolicy
from logs.retention.run import apply_retention

PURGED_SHARE = 0.25
DAYS = 365


def purge_rate(path: str) -> dict:
    """Events per second for archiving and purging the oldest quarter of the stored events."""
    stored = AuditEvent.objects.count()
    boundary = AuditEvent.objects.order_by("activity_datetime", "id").values_list(
        "activity_datetime", flat=True
    )[int(stored * PURGED_SHARE)]
    # "Now" is chosen so that the retention cutoff falls on the quarter's boundary.
    now = boundary + timedelta(days=DAYS)
    archive_dir = Path(tempfile.mkdtemp(prefix="retention-", dir=Path(path).parent))
    try:
        started = time.perf_counter()
        result = apply_retention(RetentionPolicy(DAYS), archive_dir=archive_dir, now=now)
        seconds = time.perf_counter() - started
        archive_bytes = sum(file.stat().st_size for file in result.archived_files)
    finally:
        shutil.rmtree(archive_dir, ignore_errors=True)
    return {
        "rate": result.purged / seconds,
        "purged": result.purged,
        "seconds": seconds,
        "archive_mb": archive_bytes / 2**20,
    }


def verify_seconds(path: str) -> dict:
    """Seconds for verify_audit_log's walk of the whole chain; ``path`` is unused."""
    started = time.perf_counter()
    result = verify_chain()
    seconds = time.perf_counter() - started
    if not result.ok:
        raise RuntimeError(f"the populated database does not verify: {result.broken}")
    return {"rows": {"verify": seconds}, "units": {"verify": "s"}, "events": result.events}
