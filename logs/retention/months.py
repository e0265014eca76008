"""Retention of whole months on PostgreSQL: archive the month, then drop its partition.

When the event table is partitioned by month (logs.partitions), a month whose every event has
expired under every category's cutoff, and that no active legal hold reaches into, is removed
whole: its events are archived with the run's other parts, in the same files and manifest
as ever (logs.retention.run), and once the last of them is listed, in one transaction under
the chain lock, what
hangs off them (targets, modified properties, annotations) is deleted, one chain checkpoint
records every chain position the month held, and the partition is detached and dropped. No
dead rows are left in the event table and its indexes to be vacuumed, and the drop takes the
time of a catalog change whatever the month's size.

Everything else (a month partly expired, one a hold reaches into, SQLite) keeps the
event-by-event path (logs.retention.run). The drop happens only if, under the chain lock,
the partition holds exactly the events archived (an import of old records may have added some
since) and no hold placed since covers any of them; otherwise the archived events are purged
event by event, as a stopped run's are, and those a new hold covers stay.
"""

from datetime import date

from django.db import OperationalError, connection
from django.db.models import Q

from logs.digests import seal_chain
from logs.hash_chain import lock_chain
from logs.immutability import retention_purge
from logs.integrity import purged_ranges, record_checkpoint
from logs.models import AuditEvent
from logs.partitions import EVENT_TABLE, existing_months, month_bounds, partitioned
from logs.retention.holds import held_among, holds_covering
from logs.retention.purge import delete_dependents, purge_batch

# How long the drop waits for readers of the event table (detaching needs them gone); past it,
# the month is purged event by event instead of making every new reader queue behind the drop.
DROP_LOCK_TIMEOUT = "5s"


def expired_months(policy, now, holds: list) -> list[tuple[date, str]]:
    """The months (and their partitions) that can go whole: ended before the earliest cutoff
    of any category, holding events, and reached by no active hold in ``holds``."""
    if not partitioned():
        return []
    default, by_category = policy.cutoffs(now)
    earliest = min([default, *by_category.values()])
    with connection.cursor() as cursor:
        months = existing_months(cursor)
    whole = []
    for month, name in sorted(months.items()):
        start, end = month_bounds(month)
        if end > earliest:
            break
        in_month = AuditEvent.objects.filter(
            activity_datetime__gte=start, activity_datetime__lt=end
        )
        if in_month.exists() and not holds_covering(start, end, holds):
            whole.append((month, name))
    return whole


def drop_month(name: str, listed: list[int], run: str, holds_now, store=None) -> bool:
    """Drop the partition ``name`` if it holds exactly the events ``listed`` and no hold in
    ``holds_now()`` covers one; with the month's dependents and chain checkpoint, in one
    transaction. Returns whether it was dropped."""
    try:
        with retention_purge(), connection.cursor() as cursor:
            lock_chain()
            cursor.execute(f"SELECT id FROM {name}")
            stored = {row[0] for row in cursor.fetchall()}
            if stored != set(listed) or held_among(listed, holds_now()):
                return False
            if store is not None:
                store.check_lock()
            cursor.execute("SET LOCAL lock_timeout = %s", [DROP_LOCK_TIMEOUT])
            delete_dependents(cursor, listed)
            cursor.execute(f"SELECT chain_seq, chain_link FROM {name} WHERE chain_seq IS NOT NULL")
            chained = [(seq, bytes(link)) for seq, link in cursor.fetchall()]
            record_checkpoint(purged_ranges(chained), run)
            cursor.execute(f"ALTER TABLE {EVENT_TABLE} DETACH PARTITION {name}")
            cursor.execute(f"DROP TABLE {name}")
            seal_chain()
    except OperationalError as error:
        if "lock timeout" not in str(error):
            raise
        return False
    return True


def purge_listed(listed: list[int], run: str, batch_size: int, holds_now) -> tuple[int, set]:
    """The event-by-event path for a month that could not be dropped: its archived events
    purged in batches, less those a hold covers now; returns how many went and the held."""
    held = held_among(listed, holds_now())
    ids = [pk for pk in listed if pk not in held] if held else listed
    purged = 0
    for start in range(0, len(ids), batch_size):
        purged += purge_batch(ids[start : start + batch_size], run)
    return purged, held


def _month_condition(start, end) -> Q:
    return Q(activity_datetime__gte=start, activity_datetime__lt=end)
