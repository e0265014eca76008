"""Fast inserts of many rows: ids reserved up front, then executemany (SQLite) or COPY (PostgreSQL).

The ORM's bulk_create compiles every value through the field machinery and needs RETURNING to
learn the new ids; at millions of events that dominates the import. Reserving ids first lets
targets and modified properties reference their parents without a round trip, and the rows go
to the database in one statement per table per batch.
"""

import threading

from django.db import DEFAULT_DB_ALIAS, connection, connections


def reserve_ids(model, count: int) -> list[int]:
    """``count`` fresh primary keys for ``model``; call inside the import's transaction."""
    if count == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The sequence is named once: pg_get_serial_sequence() in the select list ran once
            # per id, and took six times as long as nextval() itself.
            cursor.execute(
                "SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                [_sequence_of(cursor, table), count],
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite: the transaction holds the database's write lock (BEGIN IMMEDIATE), so no other
        # writer can take these ids; sqlite_sequence remembers ids of rows already deleted.
        cursor.execute(
            f"SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "
            f'coalesce((SELECT max(id) FROM "{table}"), 0))',
            [table],
        )
        start = cursor.fetchone()[0] + 1
        return list(range(start, start + count))


_sequences: dict[tuple[str, str], str] = {}


def _sequence_of(cursor, table: str) -> str:
    """The name of the sequence that numbers ``table``'s ids (PostgreSQL), looked up once."""
    key = (connection.settings_dict["NAME"], table)
    if key not in _sequences:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        _sequences[key] = cursor.fetchone()[0]
    return _sequences[key]


def insert_rows(model, columns: list[str], rows: list[tuple]) -> None:
    """Insert ``rows`` (values already in database form) into ``model``'s table."""
    if not rows:
        return
    connection.ensure_connection()
    dbapi, vendor = connection.connection, connection.vendor
    table = f'"{model._meta.db_table}"'
    column_list = ", ".join(f'"{column}"' for column in columns)
    if vendor == "postgresql":
        with (
            dbapi.cursor() as cursor,
            cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
    else:
        placeholders = ", ".join(["?"] * len(columns))
        dbapi.executemany(f"INSERT INTO {table} ({column_list}) VALUES ({placeholders})", rows)


# SQLite page cache for work that touches the pages of every index in random order (KiB, as
# PRAGMA cache_size takes negative values): a million events carry unique and secondary indexes
# of a few hundred MB, so a larger cache saves many page reads; the rest of the time the
# connection keeps the settings' smaller cache. A retention run, which has no memory target,
# takes this size: it purges faster with it (benchmark metric ``retention``).
LARGE_CACHE_KIB = 128 * 1024
# An import takes less: the cache is most of what it holds beyond Python's own objects, this
# size keeps a large import's peak memory within its target (benchmark metric ``ingest peak
# RSS``), and the larger one bought it no measurable speed (metric ``ingest``).
IMPORT_CACHE_KIB = 88 * 1024


def set_import_cache(kib: int = LARGE_CACHE_KIB) -> int | None:
    """On SQLite, enlarge this connection's page cache to ``kib``; returns the size to restore.

    PRAGMA cache_size is not part of any transaction, so it goes straight to the driver: the
    restore must work even inside a transaction already marked for rollback.
    """
    if connection.vendor != "sqlite":
        return None
    connection.ensure_connection()
    dbapi = connection.connection
    previous = dbapi.execute("PRAGMA cache_size").fetchone()[0]
    dbapi.execute(f"PRAGMA cache_size = -{int(kib)}")
    return previous


def restore_cache(previous: int | None) -> None:
    if previous is not None:
        connection.connection.execute(f"PRAGMA cache_size = {int(previous)}")


def check_references_as_written() -> None:
    """On PostgreSQL, check foreign keys as rows arrive rather than all at COMMIT.

    Django declares them deferred, which would leave every check of a large import to the
    COMMIT, after the last batch, when nothing else can run beside it; checked as each batch is
    written, they overlap the parsing of the next one. Applies to the current transaction only.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class BackgroundWriter:
    """Runs one storing job at a time on a second thread, in the caller's transaction.

    The job thread uses the caller's own database connection (Django's thread sharing, as its
    live test server does), so its queries and inserts are part of the caller's transaction.
    Storing a batch spends most of its time waiting for the database (the duplicate check, id
    reservation, index upkeep, PostgreSQL's side of COPY) without holding Python's GIL, so the
    caller can read and parse the next batch meanwhile. The caller must not touch the
    connection while a job runs: it calls ``wait()`` first, and ``close()`` before its
    transaction ends.
    """

    def __init__(self):
        self._connection = connections[DEFAULT_DB_ALIAS]
        self._connection.ensure_connection()
        self._connection.inc_thread_sharing()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def submit(self, job) -> None:
        """Start ``job()`` once the previous job is done."""
        self.wait()
        self._thread = threading.Thread(target=self._run, args=(job,), daemon=True)
        self._thread.start()

    def _run(self, job) -> None:
        connections[DEFAULT_DB_ALIAS] = self._connection
        try:
            job()
        except BaseException as error:  # handed to the caller's thread by wait()
            self._error = error

    def wait(self) -> None:
        """Block until the job in flight is done; raise what it raised."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def close(self) -> None:
        """Wait for the job in flight and stop sharing the connection."""
        try:
            self.wait()
        finally:
            self._connection.dec_thread_sharing()
