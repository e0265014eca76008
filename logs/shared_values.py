"""Moving a repeated per-event value into a shared lookup, in place: the migrations' part.

Migrations 0031 (``additionalDetails`` lists) and 0032 (user agents) each turn an event column
that holds a value into a key to a ``TextKeyedLookup`` row (logs.models.lookups), or null for
none, and back. Both do it the same way, with no gap in the triggers:

- Writes to the event table wait first, so that no event stored meanwhile holds a value the
  migration did not see. PostgreSQL: the chain's lock, which every writer of events takes
  before it reads the table, then ``LOCK TABLE ... EXCLUSIVE`` (reads go on); in that order, a
  writer that has read but not yet written cannot deadlock with the migration. SQLite: the
  write lock, which the migration's transaction holds from its start (the portal opens
  SQLite transactions IMMEDIATE).
- The distinct values stored are read, and one row stored for each under the digest of its
  canonical text, then sealed as the loader seals new rows. Values that differ as stored but
  read as the same JSON share a row. A value that cannot be read stops the migration, naming
  an event that holds it.
- PostgreSQL: ``ALTER COLUMN ... TYPE bigint USING`` a function that looks each value up in
  a map of the values read (with a hash index, both kept only for the migration), then the
  column is renamed. A column rewrite is not an UPDATE: the statement triggers stay, and the
  table is written once, with no dead copy of each row. The new table gets the lookups'
  statement trigger.
- SQLite: the key column is added and filled by one UPDATE, the old column dropped, and the
  triggers put back (``logs.sqlite_triggers``, which also covers the new table), in the
  migration's transaction. SQLite frees the space at the next ``VACUUM``.
- Either way, a value that finds no row stops the migration rather than leave an event
  showing none.

Going back writes each event's value into its row again and drops the seals (the table goes
with the migration's CreateModel).
"""

from collections.abc import Callable
from dataclasses import dataclass

from logs import sqlite_triggers
from logs.hash_chain import CHAIN_LOCK_KEY
from logs.lookup_seals import LOOKUPS, seal_new_rows
from logs.models.lookups import text_digest

EVENTS = "logs_auditevent"
KEY_FUNCTION = "logs_shared_value_key"
VALUE_FUNCTION = "logs_shared_value"
MAP_TABLE = "logs_shared_value_map"


@dataclass(frozen=True)
class SharedColumn:
    """An event column whose values move to a lookup table."""

    column: str  # the event's column holding the value
    key_column: str  # the event's column holding the key instead
    table: str  # the lookup table
    value_column: str  # its column holding the value
    postgres_type: str  # of the value, on PostgreSQL
    empty: str  # the value that means none, as SQL ("'[]'", "''")
    sqlite_definition: str  # the value column's definition on SQLite, for going back
    canonical: Callable[[str], str]  # a stored value's text → the text its digest is of


def to_keys(schema_editor, shared: SharedColumn) -> None:
    connection = schema_editor.connection
    postgres = connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
        schema_editor.execute(f"LOCK TABLE {EVENTS} IN EXCLUSIVE MODE")
    else:
        sqlite_triggers.remove(connection)
    ids = _store_rows(connection, shared, postgres)
    if postgres:
        value_type = shared.postgres_type
        schema_editor.execute(
            f"CREATE TEMPORARY TABLE {MAP_TABLE} (stored {value_type}, id bigint) ON COMMIT DROP"
        )
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {MAP_TABLE} (stored, id) VALUES (%s::{value_type}, %s)",
                list(ids.items()),
            )
        schema_editor.execute(f"CREATE INDEX ON {MAP_TABLE} USING hash (stored)")
        schema_editor.execute(f"ANALYZE {MAP_TABLE}")
        schema_editor.execute(
            f"CREATE FUNCTION {KEY_FUNCTION}(value {value_type}) RETURNS bigint "
            "LANGUAGE plpgsql STABLE AS $$ DECLARE key bigint; BEGIN "
            f"SELECT id INTO key FROM {MAP_TABLE} WHERE stored = value; "
            f"IF key IS NULL THEN RAISE EXCEPTION '{shared.column}: a stored value has no "
            f"{shared.table} row: %', left(value::text, 200); END IF; RETURN key; END $$",
            None,  # no parameters: the % is PL/pgSQL's
        )
        column = shared.column
        schema_editor.execute(
            f"ALTER TABLE {EVENTS} ALTER COLUMN {column} DROP NOT NULL, "
            f"ALTER COLUMN {column} TYPE bigint USING CASE WHEN {column} = "
            f"{shared.empty}::{shared.postgres_type} THEN NULL ELSE {KEY_FUNCTION}({column}) END"
        )
        schema_editor.execute(f"ALTER TABLE {EVENTS} RENAME COLUMN {column} TO {shared.key_column}")
        schema_editor.execute(f"DROP FUNCTION {KEY_FUNCTION}({shared.postgres_type})")
        schema_editor.execute(f"DROP TABLE {MAP_TABLE}")
        schema_editor.execute(
            f"CREATE TRIGGER {shared.table}_immutable_statement BEFORE UPDATE OR DELETE ON "
            f"{shared.table} FOR EACH STATEMENT EXECUTE FUNCTION logs_reject_audit_statement()"
        )
        return
    connection.ensure_connection()
    connection.connection.create_function(KEY_FUNCTION, 1, ids.get, deterministic=True)
    schema_editor.execute(f"ALTER TABLE {EVENTS} ADD COLUMN {shared.key_column} integer NULL")
    schema_editor.execute(
        f"UPDATE {EVENTS} SET {shared.key_column} = {KEY_FUNCTION}({shared.column})"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {EVENTS} WHERE {shared.key_column} IS NULL "
            f"AND {shared.column} <> {shared.empty} LIMIT 1"
        )
        unmatched = cursor.fetchone()
    if unmatched:
        raise ValueError(
            f"event {unmatched[0]}: its {shared.column} has no {shared.table} row; nothing "
            "was migrated"
        )
    schema_editor.execute(f"ALTER TABLE {EVENTS} DROP COLUMN {shared.column}")
    sqlite_triggers.install(connection)


def _store_rows(connection, shared: SharedColumn, postgres: bool) -> dict[str, int]:
    """Store and seal one row per distinct value the events hold; stored value → row id."""
    parameter = f"%s::{shared.postgres_type}" if postgres else "%s"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT {shared.column} FROM {EVENTS} WHERE {shared.column} <> "
            + (f"{shared.empty}::{shared.postgres_type}" if postgres else shared.empty)
        )
        by_digest: dict[str, list[str]] = {}
        for (stored,) in cursor.fetchall():
            try:
                canonical = shared.canonical(stored)
            except (ValueError, TypeError) as error:
                raise ValueError(
                    f"event {_holder(cursor, shared, stored, parameter)}: its {shared.column} "
                    f"cannot be read ({error}); nothing was migrated"
                ) from error
            by_digest.setdefault(text_digest(canonical), []).append(stored)
        ids = {}
        for digest, values in by_digest.items():
            cursor.execute(
                f"INSERT INTO {shared.table} (digest, {shared.value_column}) "
                f"VALUES (%s, {parameter}) RETURNING id",
                [digest, values[0]],
            )
            (pk,) = cursor.fetchone()
            ids.update(dict.fromkeys(values, pk))
    seal_new_rows(connection, LOOKUPS[shared.table])
    return ids


def _holder(cursor, shared: SharedColumn, stored: str, parameter: str) -> int:
    """The id of an event holding ``stored``."""
    cursor.execute(
        f"SELECT id FROM {EVENTS} WHERE {shared.column} = {parameter} ORDER BY id LIMIT 1",
        [stored],
    )
    return cursor.fetchone()[0]


def to_values(schema_editor, shared: SharedColumn) -> None:
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE FUNCTION {VALUE_FUNCTION}(key bigint) RETURNS {shared.postgres_type} "
            f"LANGUAGE sql STABLE AS $$ SELECT {shared.value_column} FROM {shared.table} "
            "WHERE id = key $$"
        )
        schema_editor.execute(
            f"ALTER TABLE {EVENTS} ALTER COLUMN {shared.key_column} TYPE {shared.postgres_type} "
            f"USING coalesce({VALUE_FUNCTION}({shared.key_column}), "
            f"{shared.empty}::{shared.postgres_type}), "
            f"ALTER COLUMN {shared.key_column} SET NOT NULL"
        )
        schema_editor.execute(
            f"ALTER TABLE {EVENTS} RENAME COLUMN {shared.key_column} TO {shared.column}"
        )
        schema_editor.execute(f"DROP FUNCTION {VALUE_FUNCTION}(bigint)")
        schema_editor.execute(
            f"DROP TRIGGER IF EXISTS {shared.table}_immutable_statement ON {shared.table}"
        )
    else:
        sqlite_triggers.remove(connection)
        schema_editor.execute(
            f"ALTER TABLE {EVENTS} ADD COLUMN {shared.column} {shared.sqlite_definition}"
        )
        schema_editor.execute(
            f"UPDATE {EVENTS} SET {shared.column} = (SELECT {shared.value_column} FROM "
            f"{shared.table} WHERE {shared.table}.id = {shared.key_column}) "
            f"WHERE {shared.key_column} IS NOT NULL"
        )
        schema_editor.execute(f"ALTER TABLE {EVENTS} DROP COLUMN {shared.key_column}")
        sqlite_triggers.install(connection)
    _forget_seals(schema_editor, LOOKUPS[shared.table].name)


def _forget_seals(schema_editor, lookup: str) -> None:
    """The lookup's seals go with its table (the seal table refuses a DELETE outside
    retention, so its trigger is stepped around)."""
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE logs_lookupseal DISABLE TRIGGER USER")
        schema_editor.execute("DELETE FROM logs_lookupseal WHERE lookup = %s", [lookup])
        schema_editor.execute("ALTER TABLE logs_lookupseal ENABLE TRIGGER USER")
        return
    sqlite_triggers.remove(connection)
    schema_editor.execute("DELETE FROM logs_lookupseal WHERE lookup = %s", [lookup])
    sqlite_triggers.install(connection)
