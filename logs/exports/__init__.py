"""Exports of stored events: CSV (two shapes), JSON and NDJSON, streamed chunk by chunk.

The admin's *Download* button and actions, the API's ``format=csv|json|ndjson`` and the
``export_audit_logs`` command all write through :class:`Export`, so a format means the same
bytes everywhere. ``selection`` reads the events (keyset chunks, a fixed number of queries per
chunk, no transaction held), ``graph_records`` shapes JSON records, ``csv_files`` writes CSV,
``web`` serves them and records each in the portal's access trail.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from django.db import connections

from logs.exports import csv_files, portal_copy, selection
from logs.exports.graph_records import graph_record_text, needs_targets, served_record_text
from logs.exports.selection import count_events, iter_event_rows, iter_listing_events

FORMATS = ("csv", "json", "ndjson")
# The Entra portal downloads at most 250,000 records; the portal and the API keep that limit.
WEB_EXPORT_LIMIT = 250_000

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "ndjson": "application/x-ndjson",
}


@contextmanager
def sqlite_reads_copied(connection):
    """On SQLite, read the database file without memory mapping while an export streams.

    The portal maps the file (settings: it keeps every request's reads warm), but an export
    reads its whole range once, and the mapped pages it touches count as the process's own
    resident memory, which would grow with the number of events exported. Copied reads keep
    it flat (benchmark metric ``export``, its RSS growth rows).
    """
    if connection.vendor != "sqlite":
        yield
        return
    connection.ensure_connection()
    dbapi = connection.connection
    row = dbapi.execute("PRAGMA mmap_size").fetchone()
    if row is None:  # an in-memory database: nothing is mapped
        yield
        return
    (previous,) = row
    dbapi.execute("PRAGMA mmap_size = 0")
    try:
        yield
    finally:
        dbapi.execute(f"PRAGMA mmap_size = {int(previous)}")


def is_oldest_first(queryset) -> bool:
    """Whether ``queryset`` is ordered oldest first (the FilterSet's ``ordering=date`` or the
    changelist's date column sorted ascending); exports keep the listing's order."""
    ordering = queryset.query.order_by or queryset.model._meta.ordering
    return bool(ordering) and ordering[0] == "activity_datetime"


class Export:
    """The text of one export, produced lazily: iterate to get it chunk by chunk.

    ``queryset`` is the filtered AuditEvent queryset (for example ``AuditEventFilterSet.qs``);
    ``columns`` (keys of ``logs.columns``) selects the chosen-columns CSV instead of the
    portal form; ``limit`` keeps the newest ``limit`` events; the order is the queryset's
    (newest first unless it is ordered oldest first), unless ``oldest_first`` says otherwise,
    or ``column_sort`` (a logs.sorting.ColumnSort: the listing sorted by service, status, ...)
    orders the file as the listing is ordered.
    After (or while) iterating, ``rows_written`` says how many events have been written, and
    ``truncated`` whether the selection held more than ``limit``.
    """

    def __init__(
        self,
        queryset,
        format: str = "csv",
        *,
        columns: list[str] | None = None,
        oldest_first: bool | None = None,
        limit: int | None = None,
        neutralise_formulas: bool = True,
        chunk_size: int | None = None,
        column_sort=None,
    ):
        if format not in FORMATS:
            raise ValueError(f"unknown export format {format!r}; choose one of {FORMATS}")
        if columns is not None and format != "csv":
            raise ValueError("columns apply to CSV only")
        self.queryset = queryset
        self.format = format
        self.columns = columns
        self.oldest_first = is_oldest_first(queryset) if oldest_first is None else oldest_first
        self.limit = limit
        self.neutralise_formulas = neutralise_formulas
        self.chunk_size = chunk_size or selection.CHUNK_SIZE
        self.column_sort = column_sort
        self.rows_written = 0
        self.truncated = False
        self.finished = False

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]

    @property
    def layout(self) -> str | None:
        """A CSV's layout: "entra format" (the admin center's 86 columns) or "chosen columns"."""
        if self.format != "csv":
            return None
        return "entra format" if self.columns is None else "chosen columns"

    def file_name(self, now: datetime | None = None) -> str:
        """``auditlogs-20261205-191307.json``; a CSV's name says its layout
        (``...-entra-format.csv``, ``...-chosen-columns.csv``)."""
        moment = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
        layout = f"-{self.layout.replace(' ', '-')}" if self.layout else ""
        return f"auditlogs-{moment}{layout}.{self.format}"

    def count(self) -> int:
        """How many events the export will hold (one COUNT query)."""
        return count_events(self.queryset, self.limit)

    def exceeds_limit(self) -> bool:
        """Whether the selection holds more events than ``limit`` (one short query)."""
        if self.limit is None:
            return False
        return self.queryset.order_by()[self.limit : self.limit + 1].exists()

    def __iter__(self) -> Iterator[str]:
        if self.format == "csv" and self.columns is not None:
            body = self._column_csv()
        elif self.format == "csv":
            body = self._portal_csv()
        else:
            body = self._json()
        with sqlite_reads_copied(connections[self.queryset.db]):
            yield from body
        if self.limit is not None and self.rows_written >= self.limit:
            self.truncated = self.exceeds_limit()
        self.finished = True

    def _chunks(self, **options):
        return iter_event_rows(
            self.queryset,
            oldest_first=self.oldest_first,
            limit=self.limit,
            chunk_size=self.chunk_size,
            column_sort=self.column_sort,
            **options,
        )

    def _portal_csv(self):
        writer = csv_files.CsvChunkWriter(csv_files.PORTAL_HEADER)
        yield writer.header
        # The database's own CSV writer reads in date order only.
        if self.column_sort is None and portal_copy.is_available(connections[self.queryset.db]):
            for text, count in portal_copy.iter_portal_csv(
                self.queryset,
                neutralise_formulas=self.neutralise_formulas,
                oldest_first=self.oldest_first,
                limit=self.limit,
                rows_per_chunk=self.chunk_size,
            ):
                self.rows_written += count
                yield text
            return
        for text, count in csv_files.iter_portal_text(
            self.queryset,
            neutralise_formulas=self.neutralise_formulas,
            oldest_first=self.oldest_first,
            limit=self.limit,
            chunk_size=self.chunk_size,
            column_sort=self.column_sort,
        ):
            self.rows_written += count
            yield text

    def _column_csv(self):
        writer = csv_files.CsvChunkWriter(csv_files.column_header(self.columns))
        yield writer.header
        for events in iter_listing_events(
            self.queryset,
            oldest_first=self.oldest_first,
            limit=self.limit,
            chunk_size=self.chunk_size,
            column_sort=self.column_sort,
        ):
            text = writer.chunk(
                [
                    csv_files.column_row(event, self.columns, self.neutralise_formulas)
                    for event in events
                ]
            )
            self.rows_written += len(events)
            yield text

    def _json(self):
        ndjson = self.format == "ndjson"
        if not ndjson:
            yield "["
        separator = "\n" if ndjson else ",\n"
        # JSON holds the records as Graph serves them; NDJSON, the archive format, the originals.
        record_text = graph_record_text if ndjson else served_record_text
        for events in self._chunks(with_original=True, with_targets=needs_targets):
            records = separator.join(record_text(event) for event in events)
            if ndjson:
                text = records + "\n"
            else:
                text = ("\n" if self.rows_written == 0 else ",\n") + records
            self.rows_written += len(events)
            yield text
        if not ndjson:
            yield "\n]\n" if self.rows_written else "]\n"
