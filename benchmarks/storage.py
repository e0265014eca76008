"""Bytes on disk per stored event, and who owns them (run by ``benchmarks.worker``).

An archive is judged by what keeping it costs, so the figure is the whole database's size
against the raw Graph JSON it was imported from, on the populated database (which it does not
change):

- SQLite: the file after a WAL checkpoint (as an operator finds it), and the file a ``VACUUM``
  writes (``VACUUM INTO`` a temporary file beside it, so the populated file stays as it is):
  the figure is the vacuumed file, every page packed, none free.
- PostgreSQL: ``pg_total_relation_size`` of every table (heap, free space and visibility maps,
  TOAST and its index, every index), in every schema but the system's. Sequences and the system
  catalogues are not counted.

Each byte gets an owner: every table of the portal's own app that holds rows (the events, their
targets and modified properties, the lookups, the import batches) is split into its table, its
out-of-line values (PostgreSQL's TOAST; SQLite's overflow pages, where there are any) and each
of its indexes; the
rest of the database (Django's tables, empty tables, SQLite's schema page) is one owner, and so
are SQLite's free pages if there are any. The parts add up to the total exactly, or the
measurement fails: a breakdown that does not add up would mislead.

The raw limit of every row is the data file's bytes per event, so each row's ratio is its share
of the raw JSON, and the ratios of the parts add up to that of the total. Beside it, the data
file's gzip ratio (raw bytes over ``gzip -6`` bytes): how repetitive the generated data is.
"""

import os
import sqlite3
import tempfile
import zlib
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.db import connection

from logs.models import AuditEvent

MIB = 2**20
# The portal's own tables are broken down; every other table is counted as one owner.
APP_LABEL = "logs"
REST = "other tables"
FREE_PAGES = "free pages"
LOCK_BYTE_PAGE = "lock-byte page"
LOCK_BYTE_OFFSET = 2**30
GZIP_LEVEL = 6  # gzip's default


@dataclass
class Storage:
    """The database's bytes on disk, and the same bytes by owner (which add up to them)."""

    total: int
    owners: list[tuple[str, int]] = field(default_factory=list)
    # SQLite: the file as it stands after a checkpoint, before VACUUM.
    before_vacuum: int | None = None

    def check(self) -> "Storage":
        owned = sum(size for _, size in self.owners)
        if owned != self.total:
            raise RuntimeError(f"the owners hold {owned:,} bytes, the database {self.total:,}")
        return self


def storage_figures(path: str) -> dict:
    """Rows in bytes per event (raw limit: the data file's) and MiB; ``path``: the data file."""
    events = AuditEvent.objects.count()
    if not events:
        raise RuntimeError("no events stored: nothing to measure per event")
    storage = measure_sqlite() if connection.vendor == "sqlite" else measure_postgres()
    raw_bytes = os.path.getsize(path)
    raw_per_event = raw_bytes / events
    rows, units, raw = {}, {}, {}

    def add(name, value, unit="B/event", raw_value=raw_per_event):
        rows[name], units[name] = value, unit
        if raw_value is not None:
            raw[name] = raw_value

    add("storage", storage.total / events)
    if storage.before_vacuum is not None:
        add("storage before VACUUM", storage.before_vacuum / events)
    add("storage total", storage.total / MIB, unit="MiB", raw_value=raw_bytes / MIB)
    add("data file gzip ratio", gzip_ratio(path), unit="raw/gzip", raw_value=None)
    for owner, size in storage.owners:
        add(f"storage {owner}", size / events)
    return {"events": events, "rows": rows, "units": units, "raw": raw}


def gzip_ratio(path) -> float:
    """The file's size over its size as ``gzip -6`` writes it (streamed, any size)."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    raw = compressed = 0
    with open(path, "rb") as stream:
        while chunk := stream.read(MIB):
            raw += len(chunk)
            compressed += len(compressor.compress(chunk))
    compressed += len(compressor.flush())
    return raw / compressed


def app_tables() -> set[str]:
    return {model._meta.db_table for model in apps.get_app_config(APP_LABEL).get_models()}


# SQLite ----------------------------------------------------------------------------------


def measure_sqlite() -> Storage:
    """The checkpointed file's size, and the vacuumed file's by owner.

    An in-memory database (the test suite's) has no file before VACUUM: only the vacuumed one.
    """
    before = None
    directory = None
    if not connection.is_in_memory_db():
        name = Path(connection.settings_dict["NAME"])
        before = _checkpointed_size(name)
        directory = name.parent
    with tempfile.TemporaryDirectory(dir=directory, prefix="storage-") as scratch:
        vacuumed = Path(scratch) / "vacuumed.sqlite3"
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM INTO %s", [str(vacuumed)])
        storage = sqlite_owners(vacuumed)
    storage.before_vacuum = before
    return storage


def _checkpointed_size(name: Path) -> int:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        busy, _, _ = cursor.fetchone()
    if busy:
        raise RuntimeError(f"{name}: the WAL checkpoint was blocked by another connection")
    wal = Path(f"{name}-wal")
    return name.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def sqlite_owners(path: Path) -> Storage:
    """The file at ``path`` by owner: ``dbstat`` counts every page of every table and index,
    the free list every unused one (none after a VACUUM)."""
    wanted = app_tables()
    with closing(sqlite3.connect(path)) as database:
        page_size = database.execute("PRAGMA page_size").fetchone()[0]
        page_count = database.execute("PRAGMA page_count").fetchone()[0]
        free = page_size * database.execute("PRAGMA freelist_count").fetchone()[0]
        schema = {
            name: (kind, table)
            for kind, name, table in database.execute(
                "SELECT type, name, tbl_name FROM sqlite_schema WHERE type IN ('table', 'index')"
            )
        }
        pages = database.execute(
            "SELECT name, sum(pgsize), sum(CASE WHEN pagetype = 'overflow' THEN pgsize END) "
            "FROM dbstat GROUP BY name"
        ).fetchall()
        broken_down = {
            table
            for table in wanted
            if table in schema and database.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone()
        }
        labels = {name: _index_label(database, name) for name in schema}
    total = page_size * page_count
    sizes = {name: (size, overflow or 0) for name, size, overflow in pages}
    owners, rest = [], 0
    for table in _largest_first(broken_down, sizes, schema):
        size, overflow = sizes.get(table, (0, 0))
        owners.append((table, size - overflow))
        if overflow:
            owners.append((f"{table} overflow pages", overflow))
        indexes = [name for name, (kind, of) in schema.items() if kind == "index" and of == table]
        for index in sorted(indexes, key=lambda name: -sizes.get(name, (0, 0))[0]):
            owners.append((f"{table} {labels[index]}", sizes.get(index, (0, 0))[0]))
    for name, (size, _) in sizes.items():
        if _table_of(name, schema) not in broken_down:
            rest += size
    owners.append((REST, rest))
    if free:
        owners.append((FREE_PAGES, free))
    if total > LOCK_BYTE_OFFSET:
        # The page holding byte 2**30 of a larger file is never used (SQLite keeps it for
        # the locks of systems without byte-range locking) and dbstat does not list it.
        owners.append((LOCK_BYTE_PAGE, page_size))
    return Storage(total, owners).check()


def _index_label(database, name: str) -> str:
    """The index's name; an index SQLite made for a UNIQUE constraint is named by its columns
    ("unique (entra_id)"), its own name (``sqlite_autoindex_<table>_<n>``) saying nothing."""
    if not name.startswith("sqlite_autoindex_"):
        return name
    columns = [row[2] for row in database.execute(f"PRAGMA index_info('{name}')")]
    return f"unique ({', '.join(columns)})"


def _table_of(name: str, schema: dict) -> str:
    """The table a page owner belongs to (itself for a table, and for ``sqlite_schema``)."""
    return schema.get(name, ("table", name))[1]


def _largest_first(tables, sizes, schema) -> list[str]:
    def table_total(table):
        return sum(size for name, (size, _) in sizes.items() if _table_of(name, schema) == table)

    return sorted(tables, key=lambda table: (-table_total(table), table))


# PostgreSQL ------------------------------------------------------------------------------

_TABLES = """
    SELECT c.oid, n.nspname, c.relname, pg_total_relation_size(c.oid), pg_table_size(c.oid),
           CASE WHEN c.reltoastrelid <> 0 THEN pg_total_relation_size(c.reltoastrelid) END,
           (SELECT p.relname FROM pg_inherits h JOIN pg_class p ON p.oid = h.inhparent
             WHERE h.inhrelid = c.oid)
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'm', 'p')
       AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname NOT LIKE 'pg\\_toast%%'
"""
# A partition's index is named after the parent's index it belongs to.
_INDEXES = """
    SELECT coalesce((SELECT p.relname FROM pg_inherits h JOIN pg_class p ON p.oid = h.inhparent
                      WHERE h.inhrelid = i.oid), i.relname),
           pg_total_relation_size(i.oid)
      FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
     WHERE x.indrelid = %s
"""


def measure_postgres() -> Storage:
    """Every table's total size; the portal's tables holding rows split into the table (its
    heap, free space map and visibility map), TOAST (table and index) and each index. A
    partitioned table (the events' month partitions, migration 0026) counts as one table: its
    partitions' sizes added up, each index under the parent index's name."""
    wanted = app_tables()
    owners, rest, total, broken_down = [], 0, 0, []
    groups: dict[tuple[str, str], list[tuple]] = {}
    with connection.cursor() as cursor:
        cursor.execute(_TABLES)
        for oid, schema, table, table_total, table_size, toast, parent in cursor.fetchall():
            total += table_total
            owner = parent if parent in wanted else table
            groups.setdefault((schema, owner), []).append((oid, table_total, table_size, toast))
        for (schema, table), members in groups.items():
            group_total = sum(member[1] for member in members)
            if table in wanted and _has_rows(cursor, schema, table):
                broken_down.append((group_total, table, members))
            else:
                rest += group_total
        for _, table, members in sorted(broken_down, key=lambda t: (-t[0], t[1])):
            owners.append((table, sum(size - (toast or 0) for _, _, size, toast in members)))
            if any(toast is not None for *_, toast in members):
                owners.append((f"{table} TOAST", sum(toast or 0 for *_, toast in members)))
            indexes: dict[str, int] = {}
            for oid, *_ in members:
                cursor.execute(_INDEXES, [oid])
                for index, size in cursor.fetchall():
                    indexes[index] = indexes.get(index, 0) + size
            for index, size in sorted(indexes.items(), key=lambda row: (-row[1], row[0])):
                owners.append((f"{table} {index}", size))
    owners.append((REST, rest))
    return Storage(total, owners).check()


def _has_rows(cursor, schema: str, table: str) -> bool:
    cursor.execute(f'SELECT 1 FROM "{schema}"."{table}" LIMIT 1')
    return cursor.fetchone() is not None
