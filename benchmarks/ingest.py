"""The ingest metric, measured inside a configured Django process (see ``benchmarks.worker``).

``import_rate`` times what a person runs: ``import_file`` on an empty database, from opening the
file to the commit. ``raw_insert_rate`` is the ceiling for the same work on the same schema: the
very rows the loader would write (same columns, ids and values), inserted with plain
``executemany`` on SQLite or ``COPY`` on PostgreSQL, timing only the inserts and the commit.
The ratio of the two says how much the parsing, checking and bookkeeping cost.

``import_rate_signed`` is the same import with signed digests on (a key and a digest folder
made for the run); its comparison figure is ``import_rate`` without a key. ``page_rate`` and
``page_rate_signed`` store the file a page of ``PAGE`` records per transaction, as pushes and
collection pages arrive, so that every page writes a digest: the case digests cost most.
"""

import contextlib
import tempfile
import time
from pathlib import Path

from django.db import connection, transaction

from logs.ingest.detect import detect
from logs.ingest.formats import PARSERS
from logs.ingest.importer import import_file
from logs.ingest.loader import (
    EVENT_COLUMNS,
    MODIFIED_PROPERTY_COLUMNS,
    TARGET_COLUMNS,
    EventLoader,
)
from logs.ingest.records import AuditRecord
from logs.ingest.sources import open_input
from logs.models import AuditEvent, ChainDigest, ModifiedProperty, Target

# Events prepared per raw insert: large enough that round trips do not count, small enough that
# the prepared rows of a million-event file are never all in memory at once.
RAW_CHUNK = 50_000


def import_rate(path: str) -> dict:
    """Events per second for ``import_file(path)``; the import must store every record."""
    started = time.perf_counter()
    result = import_file(path)
    seconds = time.perf_counter() - started
    if not result.ok:
        raise RuntimeError(f"import of {path} failed: {result.errors[:3]}")
    return {"events": result.new, "seconds": seconds, "rate": result.new / seconds}


# Records per transaction for the page metrics: the size of a Graph page the export job pushes.
PAGE = 1_000


@contextlib.contextmanager
def _signing(timing: dict):
    """Signed digests on for the block: a fresh key, digests written to a temporary folder.
    ``timing["digest_seconds"]`` adds up the time spent writing digests: its share of the
    whole holds better than two rates on a busy machine."""
    from django.test import override_settings

    from logs.digests.keys import create_key_files
    from logs.ingest import loader

    timing["digest_seconds"] = 0.0
    seal = loader.seal_chain

    def timed_seal():
        started = time.perf_counter()
        try:
            return seal()
        finally:
            timing["digest_seconds"] += time.perf_counter() - started

    with tempfile.TemporaryDirectory(prefix="digests-") as folder:
        key = Path(folder) / "signing.pem"
        create_key_files(key)
        loader.seal_chain = timed_seal
        try:
            with override_settings(
                AUDITPORTAL_SIGNING_KEY=str(key),
                AUDITPORTAL_DIGEST_DIR=str(Path(folder) / "digests"),
                AUDITPORTAL_DIGEST_URL="",
            ):
                yield
        finally:
            loader.seal_chain = seal


def import_rate_signed(path: str) -> dict:
    """``import_rate`` with signed digests on; checks that the import wrote its digest."""
    timing = {}
    with _signing(timing):
        figures = import_rate(path)
    figures["digest_share"] = timing["digest_seconds"] / figures["seconds"]
    if not ChainDigest.objects.exists():
        raise RuntimeError("the signed import wrote no digest")
    return figures


def page_rate(path: str) -> dict:
    """Events per second storing ``path`` a page of PAGE records per transaction."""
    events = 0
    started = time.perf_counter()
    for records in _record_chunks(path, PAGE):
        loader = EventLoader(source_format="graph")
        with transaction.atomic(), loader:
            for record in records:
                loader.add(record)
            loader.flush()
        events += loader.counts.new
    seconds = time.perf_counter() - started
    return {"events": events, "seconds": seconds, "rate": events / seconds}


def page_rate_signed(path: str) -> dict:
    """``page_rate`` with signed digests on: one digest per page."""
    timing = {}
    with _signing(timing):
        figures = page_rate(path)
    figures["digest_share"] = timing["digest_seconds"] / figures["seconds"]
    pages = ChainDigest.objects.count()
    if pages != -(-figures["events"] // PAGE):
        raise RuntimeError(f"{pages} digests for {figures['events']} events in pages of {PAGE}")
    return figures


def raw_insert_rate(path: str) -> dict:
    """Events per second for inserting the loader's rows for ``path`` with the plain driver."""
    loader = EventLoader(source_format="graph")
    events = 0
    seconds = 0.0
    with transaction.atomic():
        for records in _record_chunks(path, RAW_CHUNK):
            rows = loader.prepare_rows(records)
            started = time.perf_counter()
            _plain_insert(AuditEvent, EVENT_COLUMNS, rows.events)
            _plain_insert(Target, TARGET_COLUMNS, rows.targets)
            _plain_insert(ModifiedProperty, MODIFIED_PROPERTY_COLUMNS, rows.modified_properties)
            seconds += time.perf_counter() - started
            events += len(rows.events)
        started = time.perf_counter()
    seconds += time.perf_counter() - started  # the commit
    return {"events": events, "seconds": seconds, "rate": events / seconds}


def _record_chunks(path: str, size: int):
    input_file = open_input(path)
    detected = detect(input_file)
    chunk: list[AuditRecord] = []
    for item in PARSERS[detected.format](input_file, detected.layout):
        if not isinstance(item, AuditRecord):
            raise RuntimeError(f"{path}: {item}")
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _plain_insert(model, columns: list[str], rows: list[tuple]) -> None:
    if not rows:
        return
    table = model._meta.db_table
    column_list = ", ".join(f'"{column}"' for column in columns)
    if connection.vendor == "postgresql":
        sql = f'COPY "{table}" ({column_list}) FROM STDIN'
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
        return
    placeholders = ", ".join("?" * len(columns))
    connection.connection.executemany(
        f'INSERT INTO "{table}" ({column_list}) VALUES ({placeholders})', rows
    )
