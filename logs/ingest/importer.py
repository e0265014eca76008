"""One import run per file: detect, parse, store, and record the provenance.

By default a file is all-or-nothing: the first bad record stops the run and the transaction
rolls back, so nothing from that file is kept. With ``continue_on_error`` good records are
stored and each bad one is handed to ``on_reject`` (the command writes them to a rejects file),
so no input is silently dropped. Either way an ImportBatch row says what happened.
"""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from logs.annotations import annotate_substrate
from logs.ingest.batches import open_batch, release_claim
from logs.ingest.detect import Detected, detect
from logs.ingest.errors import ImportFileError, RecordError
from logs.ingest.formats import PARSERS, accepts_layout
from logs.ingest.garbage_collection import fewer_collections
from logs.ingest.loader import DEFAULT_BATCH_SIZE, Conflict, EventLoader
from logs.ingest.notes import strictness
from logs.ingest.parallel import PARALLEL_MIN_BYTES, ParallelParse
from logs.ingest.sources import open_input, sha256_of
from logs.models import AuditEvent, ImportBatch
from logs.originals.dictionaries import newest_dictionary

logger = logging.getLogger(__name__)


class _StopImport(Exception):
    """Unwinds the transaction after the first bad record."""


@dataclass
class ImportResult:
    path: str
    format: str = ""
    read: int = 0
    new: int = 0
    duplicate: int = 0
    rejected: int = 0
    with_notes: int = 0  # of the new records, stored with normalisation notes
    conflict: int = 0  # ids already stored (or read) with other content; not stored
    cross_format: int = 0  # events linked as the same event from another format
    errors: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    failed: bool = False
    batch: ImportBatch | None = None

    @property
    def ok(self) -> bool:
        return not self.failed and self.rejected == 0

    def summary(self) -> str:
        text = f"{self.read} read, {self.new} new"
        if self.with_notes:
            text += f", {self.with_notes} stored with notes"
        text += f", {self.duplicate} duplicate"
        if self.conflict:
            text += f", {self.conflict} conflicting"
        if self.cross_format:
            text += f", {self.cross_format} linked as the same event from another format"
        return text + f", {self.rejected} rejected"


class RejectsWriter:
    """Writes rejected input as JSON lines: file, location, field, error and the record itself."""

    def __init__(self, path):
        self.path = Path(path)
        self._stream = None
        self.count = 0

    def __call__(self, error: "RecordError | ImportFileError | ConflictReject") -> None:
        if self._stream is None:
            self._stream = open(self.path, "w", encoding="utf-8")  # noqa: SIM115
        if isinstance(error, (RecordError, ConflictReject)):
            entry = error.as_reject()
        else:
            entry = {
                "file": error.path,
                "location": error.location,
                "field": error.field,
                "error": error.message,
                "record": "",
            }
        self._stream.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self.count += 1

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()


@dataclass
class ConflictReject:
    """A record not stored because its id was stored (or read) first with other content."""

    path: str
    conflict: Conflict

    def __str__(self) -> str:
        return f"{self.path}, {self.conflict.record.location}: {self.conflict.describe()}"

    def as_reject(self) -> dict:
        return {
            "file": self.path,
            "location": self.conflict.record.location,
            "field": "id",
            "error": "conflict: " + self.conflict.describe(),
            "kept": self.conflict.first,
            "record": self.conflict.record.original,
        }


def import_file(
    path,
    *,
    format: str | None = None,
    dry_run: bool = False,
    continue_on_error: bool = False,
    on_reject: Callable | None = None,
    user=None,
    username: str = "",
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_progress: Callable[[int, int], None] | None = None,
    parallel: bool | None = None,
    strict: bool = False,
) -> ImportResult:
    """Import one file; never raises for bad input, the result says what went wrong.

    Nor for anything else that stops it (a database error, the parsing process dying): its
    batch is closed as failed and the result says why, in one line (the traceback is logged
    at DEBUG). Only an interruption from outside (Ctrl-C, SystemExit) is raised again, once the
    batch is closed.

    ``parallel`` parses in a second process (see logs.ingest.parallel); by default it does so
    for files large enough to gain from it.

    ``strict`` refuses every record with a value that does not fit, instead of storing it
    with a normalisation note (logs.ingest.notes).
    """
    result = ImportResult(path=str(path))
    try:
        with strictness(strict):
            _import(
                path,
                result,
                format=format,
                dry_run=dry_run,
                continue_on_error=continue_on_error,
                on_reject=on_reject,
                user=user,
                username=username,
                batch_size=batch_size,
                on_progress=on_progress,
                parallel=parallel,
            )
    except BaseException as error:
        logger.debug("Importing %s failed", path, exc_info=True)
        result.failed = True
        result.new = result.duplicate = result.with_notes = result.cross_format = 0
        result.errors.append(f"{path}: import failed: {describe_failure(error)}")
        if result.batch is not None:
            _close_after_failure(result.batch, result)
        if not isinstance(error, Exception):
            raise
    finally:
        if result.batch is not None:
            release_claim(result.batch)
    return result


def describe_failure(error: BaseException) -> str:
    """One line saying what stopped an import."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def _close_after_failure(batch: ImportBatch, result: ImportResult) -> None:
    try:
        finish_batch(batch, result)
    except DatabaseError:
        # The database is gone too: the batch stays running, unclaimed, and the next import
        # marks it interrupted (logs.ingest.batches).
        logger.warning("Could not close import batch %s", batch.pk, exc_info=True)


def _import(
    path,
    result: ImportResult,
    *,
    format,
    dry_run,
    continue_on_error,
    on_reject,
    user,
    username,
    batch_size,
    on_progress,
    parallel,
) -> None:
    provenance = {
        "file_name": str(path),
        "imported_by": user,
        "imported_by_name": username or (user.get_username() if user else ""),
    }
    try:
        input_file = open_input(path)
        detected = _choose_format(input_file, format)
    except ImportFileError as error:
        result.failed = True
        result.errors.append(str(error))
        if not dry_run:
            # Even a file that could not be read leaves a trace of the attempt.
            result.batch = open_batch(format=format or "", **provenance)
            finish_batch(result.batch, result)
        return
    result.format = detected.format
    batch = None
    if not dry_run:
        sha256 = sha256_of(input_file.path)
        batch = result.batch = open_batch(format=detected.format, sha256=sha256, **provenance)
    loader = EventLoader(source_format=detected.format, import_batch=batch, batch_size=batch_size)
    if parallel is None:
        parallel = input_file.size >= PARALLEL_MIN_BYTES
    if parallel:
        # The parsing process packs the originals too; a dry run stores none.
        dictionary = None if dry_run else newest_dictionary(connection)
        items = ParallelParse(input_file, detected.format, detected.layout, dictionary)
        position = items.bytes_consumed
    else:
        items = PARSERS[detected.format](input_file, detected.layout)
        position = input_file.bytes_consumed
    # Closed however the import ends, so that a parsing process is stopped at once rather
    # than when the generator is collected (or this process ends under it).
    items = iter(items)
    try:
        # The loader writes in the background inside the transaction; leaving its block waits
        # for the write in flight, so a rollback never races a batch being inserted.
        with fewer_collections(), transaction.atomic(), loader:
            try:
                for item in items:
                    result.read += 1
                    if isinstance(item, RecordError):
                        _reject(result, item, continue_on_error, on_reject)
                    else:
                        loader.add(item)
                    if on_progress and result.read % batch_size == 0:
                        on_progress(position(), input_file.size)
            except ImportFileError as error:
                _reject(result, error, continue_on_error, on_reject)
            loader.flush()
            if dry_run:
                transaction.set_rollback(True)
            else:
                # In the import's transaction, so no reader ever sees a write-back unannotated.
                annotate_substrate(AuditEvent.objects.filter(import_batch=batch), source="import")
    except _StopImport:
        result.failed = True
    finally:
        items.close()
    if on_progress:
        on_progress(input_file.size, input_file.size)
    if result.failed:
        result.new = 0
        result.duplicate = 0
    else:
        counts = loader.counts
        result.new = counts.new
        result.duplicate = counts.duplicate
        result.with_notes = counts.with_notes
        result.cross_format = counts.cross_format
        result.conflict = counts.conflict
        for conflict in loader.conflicts:
            reject = ConflictReject(str(path), conflict)
            result.conflicts.append(str(reject))
            if on_reject is not None:
                on_reject(reject)
    if batch is not None:
        finish_batch(batch, result)


def _choose_format(input_file, requested: str | None) -> Detected:
    detected = detect(input_file)
    if requested is None or requested == detected.format:
        return detected
    if requested not in PARSERS:
        raise ImportFileError(input_file.name, f"unknown format {requested!r}")
    if not accepts_layout(requested, detected.layout):
        raise ImportFileError(
            input_file.name,
            f"was given as --format {requested}, but it looks like {detected.format}",
        )
    return Detected(requested, detected.layout)


def _reject(result, error, continue_on_error: bool, on_reject) -> None:
    result.rejected += 1
    result.errors.append(str(error))
    if not continue_on_error:
        raise _StopImport
    if on_reject is not None:
        on_reject(error)


def finish_batch(batch: ImportBatch, result: ImportResult) -> None:
    if result.failed:
        status = ImportBatch.Status.FAILED
    elif result.rejected:
        status = ImportBatch.Status.PARTIAL
    else:
        status = ImportBatch.Status.COMPLETED
    batch.status = status
    batch.finished_at = timezone.now()
    batch.records_read = result.read
    batch.records_new = result.new
    batch.records_duplicate = result.duplicate
    batch.records_rejected = result.rejected
    batch.records_with_notes = result.with_notes
    batch.records_conflicting = result.conflict
    batch.records_cross_format_duplicate = result.cross_format
    # Messages quote the input, and PostgreSQL's text cannot hold NUL.
    messages = result.errors[:20] + result.conflicts[: max(0, 20 - len(result.errors))]
    batch.error = "\n".join(messages).replace("\x00", "\\x00")
    batch.save()
