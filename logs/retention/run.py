"""A retention run, in the order that makes a killed run safe to repeat.

1. Finish what an earlier run in the archive left undone: its manifest lists files whose
   events may not all be deleted yet; delete those (only those) and mark it complete.
2. Take the next part of the expired events (oldest first), write it to an archive file, make
   it durable (synced to disk, or committed to the container) and list it in the manifest.
3. Delete exactly the listed events, in batches, each batch in its own transaction with its
   chain checkpoints. Repeat from 2.

So an event is deleted only once a durable file holding it is listed in a durable manifest,
and a re-run never archives an event twice: listed events are deleted before anything new is
chosen, unlisted files are removed. The run holds the archive's lock throughout (an ``flock``
in a folder, a blob lease in a container) and checks that it still does before each delete.
Each run, finished or resumed, leaves one AccessRecord.

Legal holds (``logs.retention.holds``) are read again for every part: an event an active hold
covers is never chosen, and one that a hold placed after its part was chosen covers (during
the run, or before a stopped run is finished) is left stored, though archived, and named in
the manifest's ``held`` ranges. The run's summary counts, per hold, the expired events it
kept.
"""

import contextlib
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.utils import timezone

from logs.access_trail import record_access
from logs.ingest.bulk_insert import restore_cache, set_import_cache
from logs.models import AccessRecord
from logs.retention.archive import ArchiveRun, ids_of
from logs.retention.faults import halt_point
from logs.retention.holds import (
    HoldError,
    active_holds,
    held_among,
    kept_back,
    kept_back_total,
    without_held,
)
from logs.retention.ids import id_ranges
from logs.retention.months import drop_month, expired_months, purge_listed
from logs.retention.policy import RetentionPolicy
from logs.retention.purge import purge_batch
from logs.retention.selection import next_part, part_dates, part_key
from logs.retention.stores import LOCK_NAME, ArchiveBusyError, ArchiveStore, open_store

# Events deleted per transaction. On SQLite a commit writes every page the batch touched to
# the write-ahead log, and the indexes keyed by random ids (activity id, correlation id) are
# touched all over by any batch, so larger batches share those pages among more deletes and
# purge faster (benchmark metric ``retention``); the bound is how long other writers wait for
# the lock (a few seconds at most), readers never wait.
DEFAULT_BATCH_SIZE = 50_000
# Events per archive file: the manifest is rewritten once per file, and each file is written
# whole before its events are deleted.
DEFAULT_PART_SIZE = 50_000


def _only_run_in(store: ArchiveStore | None):
    """Hold the archive for this run: two runs at once would each archive the same expired
    events."""
    return contextlib.nullcontext() if store is None else store.lock()


@dataclass
class RetentionResult:
    run: str
    purged: int = 0
    # The run's archive files (locations) and their size in all.
    archived_files: list[str] = field(default_factory=list)
    archived_bytes: int = 0
    archive: str | None = None
    resumed: list[str] = field(default_factory=list)
    resumed_purged: int = 0
    oldest: datetime | None = None
    newest: datetime | None = None
    categories: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    # Per legal hold active during the run, the expired events it kept; and all of them.
    held: dict[str, int] = field(default_factory=dict)
    held_total: int = 0
    held_error: str = ""


def apply_retention(
    policy: RetentionPolicy,
    *,
    archive=None,
    archive_dir=None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    part_size: int = DEFAULT_PART_SIZE,
    now: datetime | None = None,
    username: str = "",
    on_progress: Callable[[int], None] | None = None,
    whole_months: bool = True,
) -> RetentionResult:
    """Archive and purge the events ``policy`` expires. ``archive`` is where to archive (an
    ArchiveStore, a folder or a container URL; ``archive_dir`` names a folder); with neither,
    nothing is archived. ``whole_months=False`` purges whole expired months event by event
    too, as on an unpartitioned table (the benchmark compares the two)."""
    if archive is None and archive_dir is not None:
        archive = archive_dir
    store = open_store(archive) if archive is not None else None
    with _only_run_in(store):
        return _apply_retention(
            policy, store, batch_size, part_size, now, username, on_progress, whole_months
        )


def _apply_retention(
    policy, store, batch_size, part_size, now, username, on_progress, whole_months
) -> RetentionResult:
    started = time.perf_counter()
    now = now or timezone.now()
    result = RetentionResult(run=f"retention-{now:%Y%m%dT%H%M%SZ}")
    if store is not None:
        for unfinished in ArchiveRun.unfinished(store):
            result.resumed_purged += _resume(unfinished, batch_size, username)
            result.resumed.append(unfinished.name)
    condition = policy.expired(now)
    holds = _HoldsSeen()
    # Deleting touches pages of every index in random order, as an import does: on SQLite the
    # import's larger page cache saves as many page reads here.
    cache_to_restore = set_import_cache()
    try:
        archive = _archive_and_purge(
            policy,
            condition,
            store,
            batch_size,
            part_size,
            now,
            result,
            on_progress,
            holds,
            whole_months,
        )
    finally:
        restore_cache(cache_to_restore)
    if archive is not None:
        archive.finish(result.purged)
    try:
        result.held = kept_back(condition, holds.seen())
        result.held_total = kept_back_total(condition, holds.seen())
    except HoldError as error:
        # The purge is done: its record must be written, with why the counts are missing.
        result.held_error = str(error)
    result.seconds = time.perf_counter() - started
    _record(result, policy.describe(now), username, store)
    return result


class _HoldsSeen:
    """The active legal holds, read again at each step; remembers every hold seen, so that the
    summary counts a hold released during the run too."""

    def __init__(self):
        self._seen = {}

    def now(self):
        holds = active_holds()
        self._seen.update((hold.pk, hold) for hold in holds)
        return holds

    def seen(self):
        return list(self._seen.values())


def _deletable(ids: list[int], holds: list) -> tuple[list[int], set[int]]:
    """``ids`` less those a hold covers now, and those."""
    held = held_among(ids, holds)
    return ([pk for pk in ids if pk not in held] if held else ids), held


def _new_archive(policy, store, now, result) -> ArchiveRun | None:
    if store is None:
        return None
    archive = ArchiveRun.create(store, policy.describe(now), now)
    result.run, result.archive = archive.name, archive.location
    return archive


def _archive_and_purge(
    policy, condition, store, batch_size, part_size, now, result, on_progress, holds, whole_months
) -> ArchiveRun | None:
    chosen_with = holds.now()
    part = next_part(without_held(condition, chosen_with), None, part_size)
    if not part:
        return None
    archive = _new_archive(policy, store, now, result)
    months = _WholeMonths(
        expired_months(policy, now, chosen_with) if whole_months else [],
        archive,
        result,
        batch_size,
        holds,
        store,
    )
    # The next part's file is written on a second thread while this part is deleted: its
    # records read, unpacked, compressed, written and synced. zstandard and the database both
    # work without the GIL, so they share the two cores. When this thread reads a part itself
    # (whole months), it only reads: the writer unpacks the originals (archive.PartRecords).
    # A part is still deleted only once its own file is synced and listed.
    read_beside = can_read_beside()
    with ThreadPoolExecutor(max_workers=1) as writer:
        try:
            archived = _archive_part(writer, archive, part, result, read_beside)
            while part:
                records = None
                if archive is not None and months.holds_only_whole_months(part):
                    # None of this part is purged event by event: this thread chooses and
                    # reads the next part while the writer compresses this one.
                    selected_with = holds.now()
                    following = next_part(
                        without_held(condition, selected_with), part_key(part), part_size
                    )
                    records = archive.read_records(following)
                archived.result()
                if archive is not None:
                    halt_point("archived")
                current = holds.now()
                if records is None:
                    selected_with = current
                    following = next_part(
                        without_held(condition, current), part_key(part), part_size
                    )
                archived = _archive_part(writer, archive, following, result, read_beside, records)
                # The part was chosen without what the holds then active cover: only a hold
                # placed since can cover some of it.
                placed_since = [hold for hold in current if hold not in chosen_with]
                ids, held = _deletable([event[0] for event in part], placed_since)
                if held:
                    # Archived, then covered by a hold placed meanwhile: stays stored.
                    part = [event for event in part if event[0] not in held]
                    if archive is not None:
                        archived.result()
                        archive.note_held(held)
                # Events of whole expired months wait for their month to be dropped.
                part, ids = months.set_aside(part, ids)
                for start in range(0, len(ids), batch_size):
                    if store is not None:
                        store.check_lock()
                    result.purged += purge_batch(ids[start : start + batch_size], result.run)
                    halt_point("deleted")
                    if on_progress:
                        on_progress(result.purged)
                if part:
                    _add_to_summary(result, part)
                # Parts go in date order: a month before the following part's is archived whole.
                months.finish(before=following[0][1] if following else None)
                if on_progress:
                    on_progress(result.purged)
                part, chosen_with = following, selected_with
            archived.result()
        finally:
            if read_beside:
                writer.submit(_close_thread_connection).result()
    return archive


class _WholeMonths:
    """The whole expired months of a run (PostgreSQL month partitions): their events are
    archived with the other parts, in the same files, then each month is dropped at once
    (logs.retention.months) instead of purged event by event."""

    def __init__(self, months, archive, result, batch_size, holds, store):
        # "YYYY-MM" (how a part's date text begins) -> the month's partition.
        self.partitions = {f"{month:%Y-%m}": name for month, name in months}
        self.waiting: dict[str, list[tuple]] = {}
        self.archive, self.result, self.batch_size = archive, result, batch_size
        self.holds, self.store = holds, store

    def set_aside(self, part: list[tuple], ids: list[int]) -> tuple[list[tuple], list[int]]:
        """Keep the events of whole months until their month goes; returns the rest of the
        part and of its ids (those to purge now)."""
        if not self.partitions:
            return part, ids
        rest = []
        for event in part:
            month = event[1][:7]
            if month in self.partitions:
                self.waiting.setdefault(month, []).append(event)
            else:
                rest.append(event)
        kept = {event[0] for event in rest}
        return rest, [pk for pk in ids if pk in kept]

    def holds_only_whole_months(self, part: list[tuple]) -> bool:
        """Whether every event of ``part`` waits for its month's drop."""
        return bool(self.partitions) and all(event[1][:7] in self.partitions for event in part)

    def finish(self, before: str | None) -> None:
        """Drop every waiting month earlier than the date text ``before`` (all when None)."""
        for month in sorted(self.waiting):
            if before is not None and month >= before[:7]:
                break
            self._drop(month, self.waiting.pop(month))

    def _drop(self, month: str, events: list[tuple]) -> None:
        listed = [event[0] for event in events]
        run = self.result.run
        if drop_month(self.partitions[month], listed, run, self.holds.now, self.store):
            self.result.purged += len(listed)
        else:
            purged, held = purge_listed(listed, run, self.batch_size, self.holds.now)
            self.result.purged += purged
            if held:
                if self.archive is not None:
                    self.archive.note_held(held)
                events = [event for event in events if event[0] not in held]
        if events:
            _add_to_summary(self.result, events)
        halt_point("deleted")


def _archive_part(writer, archive, part, result, read_beside: bool, records=None) -> Future:
    """Have ``writer`` write ``part``'s file; done at once when there is nothing to archive.

    With ``read_beside`` the writer reads the records too, on its thread's own database
    connection, so that reading them overlaps the deletes as well. Not when this runs inside
    a caller's transaction: another connection would not see the rows it has not committed.
    ``records``: the part's records, read already (``ArchiveRun.read_records``).
    """
    if archive is None or not part:
        done = Future()
        done.set_result(None)
        return done
    if records is not None:
        read_beside = False
    elif not read_beside:
        records = archive.read_records(part)

    def write():
        entry = archive.write_records(part, archive.read_records(part) if read_beside else records)
        result.archived_files.append(archive.file_location(entry))
        result.archived_bytes += entry["bytes"]

    return writer.submit(write)


def can_read_beside() -> bool:
    """Whether a second connection sees and may read what this one deletes meanwhile: not
    inside a caller's transaction (its rows are not committed), nor on an in-memory SQLite
    database (shared between connections with table locks, so a reader would wait)."""
    if connection.in_atomic_block:
        return False
    return not (connection.vendor == "sqlite" and connection.is_in_memory_db())


def _close_thread_connection() -> None:
    """Close the database connection of the thread this runs on (Django keeps one a thread)."""
    connection.close()


def _resume(run: ArchiveRun, batch_size: int, username: str) -> int:
    run.remove_unlisted_files()
    listed = run.listed_ids()
    holds = active_holds()
    purged = 0
    held: set[int] = set()
    for first in range(0, len(listed), DEFAULT_PART_SIZE):
        ids, held_now = _deletable(listed[first : first + DEFAULT_PART_SIZE], holds)
        held |= held_now
        for start in range(0, len(ids), batch_size):
            run.store.check_lock()
            purged += purge_batch(ids[start : start + batch_size], run.name)
    run.manifest["held"] = id_ranges(held)
    # What the stopped run had deleted before it was stopped, and what was deleted now.
    run.finish(len(listed) - len(held))
    record_access(
        AccessRecord.Action.RETENTION,
        user=None,
        username=username,
        row_count=purged,
        detail={
            "run": run.name,
            "resumed": True,
            "archive": run.location,
            "policy": run.manifest["policy"],
            "archived": run.manifest["events"],
            "purged_now": purged,
            "held": len(held),
            "categories": run.manifest["categories"],
        },
    )
    return purged


def _add_to_summary(result: RetentionResult, part: list[tuple]) -> None:
    oldest, newest = part_dates(part)
    result.oldest = min(filter(None, [result.oldest, oldest]))
    result.newest = max(filter(None, [result.newest, newest]))
    for _, _, category in part:
        result.categories[category] = result.categories.get(category, 0) + 1


def _record(result: RetentionResult, policy: dict, username: str, store) -> None:
    record_access(
        AccessRecord.Action.RETENTION,
        user=None,
        username=username,
        row_count=result.purged,
        detail={
            "run": result.run,
            "days": policy["default_days"],
            "overrides": policy["overrides"],
            "cutoff": policy["cutoff"],
            "archive": result.archive,
            "archive_dir": store.location if store is not None else None,
            "files": [location.rsplit("/", 1)[-1] for location in result.archived_files],
            "categories": result.categories,
            "oldest": result.oldest.isoformat() if result.oldest else None,
            "newest": result.newest.isoformat() if result.newest else None,
            "resumed": result.resumed,
            "legal_holds": result.held,
            "held": result.held_total,
            **({"held_error": result.held_error} if result.held_error else {}),
            "seconds": round(result.seconds, 3),
        },
    )


__all__ = [
    "DEFAULT_BATCH_SIZE",
    "LOCK_NAME",
    "ArchiveBusyError",
    "ArchiveRun",
    "RetentionResult",
    "apply_retention",
    "ids_of",
]
