"""One collection run: recorded as an ImportBatch (like an import, with its source and window)
and in the access trail; each page stored in one transaction together with the position it
brings the source to.

The run's batch is opened and claimed as a file import's is (logs/ingest/batches.py): a
collector killed mid-run leaves it running and unclaimed, and the next run or import marks it
interrupted, counting the events it did store. Those events stay, and so does the position
committed with them: the next run carries on from there.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import DatabaseError, transaction
from django.utils import timezone

from logs.access_trail import record_access
from logs.ingest.batches import open_batch, release_claim
from logs.ingest.importer import describe_failure
from logs.ingest.loader import LookupCache
from logs.ingest.pushed import store_in_batch
from logs.ingest.records import AuditRecord
from logs.models import AccessRecord, CollectionSource, ImportBatch

logger = logging.getLogger(__name__)


class CollectionError(Exception):
    """A source could not be read; the message names the source and where."""


class PageRefused(Exception):
    """A page or chunk held a bad record: nothing of it was stored, the position stays."""


@dataclass
class RunResult:
    source: str
    read: int = 0
    new: int = 0
    duplicate: int = 0
    rejected: int = 0
    with_notes: int = 0  # of the new, stored with normalisation notes
    conflict: int = 0  # ids stored earlier with other content: the first version kept
    cross_format: int = 0  # of the new, the same event as one stored from another format
    pages: int = 0
    waits: int = 0
    errors: list[str] = field(default_factory=list)
    # Each conflict, located (the source's page and record, and the version kept). A conflict
    # is not an error: the page is stored and the position moves, as a file import goes on.
    conflicts: list[str] = field(default_factory=list)
    batch: ImportBatch | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        text = (
            f"{self.read} read, {self.new} new, {self.duplicate} duplicate, "
            f"{self.rejected} rejected, {self.pages} page(s)"
        )
        if self.with_notes:
            text += f", {self.with_notes} stored with notes"
        if self.cross_format:
            text += f", {self.cross_format} linked to the same event from another format"
        if self.conflict:
            text += f", {self.conflict} conflicting"
        if self.waits:
            text += f", {self.waits} wait(s) asked by the source"
        return text


class CollectionRun:
    """Records one run of ``source``; ``store_page`` commits a page and its position."""

    def __init__(self, source: CollectionSource, *, source_format: str, username: str = ""):
        self.source = source
        self.source_format = source_format
        self.username = username
        self.result = RunResult(source=source.name)
        self.started = timezone.now()
        self.window_start: datetime | None = None
        self.window_end: datetime | None = None
        # Graph: the activity date the run asked from (watermark - overlap, or --since).
        self.requested_start: datetime | None = None
        self.on_stored: Callable[[int], None] | None = None
        # The lookup rows (services, initiators, target names...) the run's committed pages
        # found or created, so that each page does not look them all up again.
        self.lookups = LookupCache()
        self.batch = self.result.batch = open_batch(
            file_name=f"collect {source.name}: {source.where()}"[:1024],
            format=source_format,
            imported_by_name=username,
            collection_source=source,
        )

    def store_page(
        self,
        records: list[AuditRecord],
        advance: Callable[[CollectionSource], list[str]],
        *,
        where: str,
    ) -> None:
        """Store ``records`` and call ``advance(source)`` (the source row locked, freshly
        read) to move its position, in one transaction: both commit, or neither. ``where``
        locates the page in the source (its messages start with it)."""
        newest = max((record.activity_datetime for record in records), default=None)
        with transaction.atomic():
            # Two collectors on one source take turns here (PostgreSQL: the row lock; SQLite:
            # its one writer); the second finds the first one's records stored.
            locked = CollectionSource.objects.select_for_update().get(pk=self.source.pk)
            loader = store_in_batch(
                records,
                self.batch,
                source_format=self.source_format,
                shared=True,
                lookups=self.lookups,
            )
            changed = advance(locked)
            if newest is not None and (
                locked.newest_event_at is None or newest > locked.newest_event_at
            ):
                locked.newest_event_at = newest
                changed.append("newest_event_at")
            if changed:
                locked.save(update_fields=changed)
        self.lookups = loader.lookups  # committed: what it found or created is stored
        self.source.watermark = locked.watermark
        self.source.newest_event_at = locked.newest_event_at
        if newest is not None:
            self.window_start = min(self.window_start or newest, newest)
            self.window_end = max(self.window_end or newest, newest)
        self.result.pages += 1
        self.result.read += len(records)
        counts = loader.counts
        self.result.new += counts.new
        self.result.duplicate += counts.duplicate
        self.result.with_notes += counts.with_notes
        self.result.conflict += counts.conflict
        self.result.cross_format += counts.cross_format
        self.result.conflicts += [
            f"{where}, {conflict.record.location}: {conflict.describe()}"
            for conflict in loader.conflicts
        ]
        if self.on_stored:
            self.on_stored(len(records))

    def refuse_page(self, read: int, rejected: int, messages: list[str]) -> PageRefused:
        self.result.read += read
        self.result.rejected += rejected
        self.result.errors.extend(messages)
        return PageRefused(messages[0] if messages else "a bad record")

    def fail(self, error: BaseException) -> None:
        if isinstance(error, CollectionError):
            self.result.errors.append(str(error))
        elif not isinstance(error, PageRefused):
            self.result.errors.append(f"{self.source.name}: {describe_failure(error)}")

    def finish(self) -> RunResult:
        """Close the batch, update the source's health and write the access record."""
        result = self.result
        batch = self.batch
        try:
            batch.finished_at = timezone.now()
            if not result.errors:
                batch.status = ImportBatch.Status.COMPLETED
            elif result.pages:
                batch.status = ImportBatch.Status.STOPPED
            else:
                batch.status = ImportBatch.Status.FAILED
            batch.records_read = result.read
            batch.records_new = result.new
            batch.records_duplicate = result.duplicate
            batch.records_rejected = result.rejected
            batch.records_with_notes = result.with_notes
            batch.records_conflicting = result.conflict
            batch.records_cross_format_duplicate = result.cross_format
            batch.error = "\n".join((result.errors + result.conflicts)[:20]).replace(
                "\x00", "\\x00"
            )
            batch.window_start = self.requested_start or self.window_start
            batch.window_end = self.window_end
            batch.save()
            now = timezone.now()
            fields = {"last_run_at": now}
            if result.errors:
                fields.update(
                    last_error_at=now,
                    last_error=batch.error[: len("\n".join(result.errors[:20]))][:4000],
                )
            else:
                fields.update(last_success_at=now, last_error="")
            CollectionSource.objects.filter(pk=self.source.pk).update(**fields)
            for name, value in fields.items():
                setattr(self.source, name, value)
            # No user account: the operating-system user who ran the collector, and under
            # collect_audit_logs the command's name (logs.access_trail.run_by_command).
            record_access(
                AccessRecord.Action.COLLECT,
                username=self.username or None,
                detail={
                    "source": self.source.name,
                    "kind": self.source.kind,
                    "from": self.source.where(),
                    "import_batch": batch.pk,
                    "window_start": _text(batch.window_start),
                    "window_end": _text(batch.window_end),
                    "read": result.read,
                    "new": result.new,
                    "duplicate": result.duplicate,
                    "rejected": result.rejected,
                    "with_notes": result.with_notes,
                    "conflicting": result.conflict,
                    "cross_format_duplicate": result.cross_format,
                    "status": batch.status,
                    "error": result.errors[0][:1000] if result.errors else "",
                },
                row_count=result.new,
            )
        except DatabaseError:
            # The database is gone: the batch stays running, unclaimed, and is marked
            # interrupted by the next run.
            logger.warning("Could not close collection run %s", batch.pk, exc_info=True)
        finally:
            release_claim(batch)
        return result


def _text(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""
