"""Records pushed through the API (``POST /api/v1/ingest/``): a Graph-shaped request body, read
by the same detection and Graph parser as a file, and stored by the same loader as one import
batch.

A push is all or nothing, stricter than a file import: the client that sent it still holds the
records and can correct and resend them, so every bad record is reported at once and nothing is
stored until all of them are good. Storing is idempotent on the Entra id, as for files, so a
client may resend a request whose answer it did not receive.
"""

import codecs
import hashlib
import io
from dataclasses import dataclass, field

import ijson
from django.db import IntegrityError, transaction

from logs.annotations import annotate_substrate
from logs.ingest.detect import detect
from logs.ingest.errors import ImportFileError, RecordError
from logs.ingest.formats import graph
from logs.ingest.importer import ImportResult, finish_batch
from logs.ingest.json_limits import GuardedReader, JsonLimitError
from logs.ingest.loader import EventLoader, LookupCache
from logs.ingest.records import AuditRecord
from logs.ingest.sources import SAMPLE_BYTES
from logs.models import AuditEvent, ImportBatch

# What an ImportBatch of pushed records names as its file: the records came from the API.
SOURCE_NAME = "api"
FORMAT = graph.NAME
# Layouts of Graph-shaped records that a body may have; detection calls a bare list of them
# "portal-json" (the admin center's download), which is the same record shape.
GRAPH_SHAPED_FORMATS = {graph.NAME, "portal-json"}
# A request with many bad records is answered with the first ones; the count says how many.
MAX_REPORTED_ERRORS = 100


class BodyError(ValueError):
    """The body as a whole is not a Graph response or list of records."""


class TooManyRecords(ValueError):
    def __init__(self, limit: int):
        self.limit = limit
        super().__init__(
            f"The request holds more than {limit:,} records; send at most {limit:,} per "
            "request (several requests are fine: records already stored are skipped)."
        )


@dataclass
class BodyInput:
    """A request body in the form the detector and the parsers read a file in."""

    content: bytes
    name: str = "The request body"
    encoding: str = "utf-8"

    @property
    def sample(self) -> str:
        return self.content[:SAMPLE_BYTES].decode("utf-8", errors="ignore")

    @property
    def size(self) -> int:
        return len(self.content)

    def open_bytes(self):
        return io.BytesIO(self.content)

    open_utf8 = open_bytes

    def open_text(self):
        return io.TextIOWrapper(self.open_bytes(), encoding=self.encoding, newline="")


@dataclass
class PushedRecordError:
    index: int  # the record's position in the body's list, from 0
    field: str  # as the record spells it, e.g. "targetResources[0].modifiedProperties"
    message: str

    def as_dict(self) -> dict:
        return {"index": self.index, "field": self.field, "message": self.message}


@dataclass
class ParsedBody:
    records: list[AuditRecord] = field(default_factory=list)
    errors: list[PushedRecordError] = field(default_factory=list)
    error_count: int = 0
    received: int = 0


def parse_body(content: bytes, *, max_records: int) -> ParsedBody:
    """Every record of ``content`` normalised, or the errors of the bad ones.

    Raises BodyError when the body is not Graph-shaped JSON at all, TooManyRecords as soon as
    the record after the limit is met (so an oversized list is not parsed to its end).
    """
    source = BodyInput(content.removeprefix(codecs.BOM_UTF8))
    try:
        detected = detect(source)
    except ImportFileError as error:
        where = ", ".join(
            part for part in (error.location, error.field and f"field {error.field}") if part
        )
        raise BodyError(
            f"{source.name} {error.message}" + (f" ({where})." if where else ".")
        ) from None
    if detected.format not in GRAPH_SHAPED_FORMATS or detected.layout not in graph.PREFIXES:
        raise BodyError(
            f"{source.name} looks like {detected.format} ({detected.layout}); expected a "
            'Microsoft Graph response ({"value": [...]}) or a list of directoryAudit records.'
        )
    parsed = ParsedBody()
    try:
        for item in graph.parse(source, detected.layout):
            if parsed.received == max_records:
                raise TooManyRecords(max_records)
            index = parsed.received
            parsed.received += 1
            if isinstance(item, RecordError):
                _add_error(parsed, PushedRecordError(index, item.field, item.message))
            else:
                parsed.records.append(item)
    except ImportFileError as error:
        _add_error(parsed, PushedRecordError(parsed.received, error.field, error.message))
    empty = not parsed.received and not parsed.errors
    if empty and detected.layout == "envelope" and not _holds_a_list(source, "value"):
        raise BodyError(f'{source.name}\'s "value" must be a list of directoryAudit records.')
    return parsed


def _add_error(parsed: ParsedBody, error: PushedRecordError) -> None:
    parsed.error_count += 1
    if len(parsed.errors) < MAX_REPORTED_ERRORS:
        parsed.errors.append(error)


def _holds_a_list(source: BodyInput, key: str) -> bool:
    """Whether the body's top-level ``key`` is a JSON list (ijson yields no items otherwise)."""
    try:
        for prefix, event, _value in ijson.parse(
            GuardedReader(source.open_bytes()), use_float=True
        ):
            if prefix == key and event != "map_key":
                return event == "start_array"
    except (ijson.JSONError, JsonLimitError):
        return False
    return False


def _provenance(content: bytes, user) -> dict:
    return {
        "file_name": SOURCE_NAME,
        "format": FORMAT,
        "sha256": hashlib.sha256(content).hexdigest(),
        "imported_by": user,
        "imported_by_name": user.get_username() if user else "",
    }


def store_records(records: list[AuditRecord], *, content: bytes, user) -> ImportResult:
    """Store ``records`` as one import batch; records already stored count as duplicates.

    Call inside the transaction that holds all of the push's writes (logs.api.write_lock): the
    batch is written and closed in it, so no one ever sees it running, and a push that fails
    leaves nothing behind.
    """
    batch = ImportBatch.objects.create(**_provenance(content, user))
    result = ImportResult(path=SOURCE_NAME, format=FORMAT, read=len(records), batch=batch)
    loader = store_in_batch(records, batch, source_format=FORMAT)
    counts = loader.counts
    result.new = counts.new
    result.duplicate = counts.duplicate
    result.with_notes = counts.with_notes
    result.conflict = counts.conflict
    result.cross_format = counts.cross_format
    result.conflicts = [
        f"record {conflict.record.location}: {conflict.describe()}" for conflict in loader.conflicts
    ]
    finish_batch(batch, result)
    return result


def store_in_batch(
    records: list[AuditRecord],
    batch: ImportBatch,
    *,
    source_format: str,
    shared: bool = False,
    lookups: LookupCache | None = None,
) -> EventLoader:
    """Store ``records`` under ``batch``; the loader returned counts what happened (new,
    duplicate, conflicting, with notes) and lists the conflicts. Parsed records from a push or a
    collection page take this one path, so that they are de-duplicated by id, chained and
    annotated exactly as a file's.

    Call inside the caller's transaction. Two writers of the same new record at the same moment
    can both find it missing; the second to commit then breaks the unique Entra id and is
    retried once, when it finds it stored (a second failure raises the IntegrityError).

    ``shared``: the batch receives many calls (a collection run, page after page), so only
    this call's events are looked at for write-backs to annotate, not all of the batch's.

    ``lookups``: what the caller's committed transactions found of the lookup tables; each
    attempt fills a copy of it (``loader.lookups``, to adopt once the caller has committed).
    """
    for attempt in (1, 2):
        loader = EventLoader(
            source_format=source_format,
            import_batch=batch,
            lookups=lookups.copy() if lookups is not None else None,
        )
        try:
            # As a file import does: the loader writes inside the transaction, and write-backs
            # are annotated in it, so no reader sees one unannotated.
            with transaction.atomic(), loader:
                for record in records:
                    loader.add(record)
                loader.flush()
                if not shared:
                    annotate_substrate(
                        AuditEvent.objects.filter(import_batch=batch), source="import"
                    )
                elif loader.new_event_id_range:
                    annotate_substrate(_inserted(loader.new_event_id_range, batch), source="import")
        except IntegrityError:
            if attempt == 2:
                raise
            continue
        break
    return loader


def _inserted(id_range: tuple[int, int], batch: ImportBatch):
    """The events a loader inserted under ``batch`` (``id_range``, the lowest and highest id
    it reserved): the batch's events in that range, one range scan where ``entra_id IN`` a
    whole page's ids took a lookup each. The batch's earlier events have lower ids; another
    writer's, numbered in between on PostgreSQL, belong to another batch."""
    first, last = id_range
    return AuditEvent.objects.filter(import_batch=batch, id__gte=first, id__lte=last)


def record_refused(parsed: ParsedBody, *, content: bytes, user) -> ImportBatch:
    """A failed ImportBatch for a push with bad records: nothing was stored, the attempt is kept
    (written in the push's transaction, as store_records' batch is)."""
    batch = ImportBatch.objects.create(**_provenance(content, user))
    result = ImportResult(
        path=SOURCE_NAME,
        format=FORMAT,
        read=parsed.received,
        rejected=parsed.error_count,
        failed=True,
        errors=[
            f"record {error.index}"
            + (f", field {error.field}" if error.field else "")
            + f": {error.message}"
            for error in parsed.errors
        ],
        batch=batch,
    )
    finish_batch(batch, result)
    return batch
