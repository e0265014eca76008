"""Moving a repeated per-event value into a shared lookup, in place: the migrations' part.

Migrations 0031 (``additionalDetails`` lists) and 0032 (user agents) each turn an event column
that holds a value into a key to a ``TextKeyedLookup`` row (logs.models.lookups), or null for
none, and back. Both do it the same way, with no gap in the triggers:

- The distinct values stored are read, and one row stored for each under the digest of its
  canonical text, then sealed as the loader seals new rows.
- PostgreSQL: ``ALTER COLUMN ... TYPE bigint USING`` a function that finds the row (through a
  hash index kept only for the migration), then the column is renamed. A column rewrite is not
  an UPDATE: the statement triggers stay, and the table is written once, with no dead copy of
  each row. The new table gets the lookups' statement trigger.
- SQLite: its triggers are dropped, the key column added and filled by one UPDATE, the old
  column dropped, and the triggers put back (``logs.sqlite_triggers``, which also covers the
  new table), in the migration's transaction. SQLite frees the space at the next ``VACUUM``.

Going back writes each event's value into its row again and drops the seals (the table goes
with the migration's CreateModel).
"""

from collections.abc import Callable
from dataclasses import dataclass

from logs import sqlite_triggers
from logs.lookup_seals import LOOKUPS, seal_new_rows
from logs.models.lookups import text_digest

EVENTS = "logs_auditevent"
KEY_FUNCTION = "logs_shared_value_key"
VALUE_FUNCTION = "logs_shared_value"


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
    ids = _store_rows(connection, shared, postgres)
    if postgres:
        schema_editor.execute(
            f"CREATE INDEX {shared.table}_value_hash ON {shared.table} "
            f"USING hash ({shared.value_column})"
        )
        schema_editor.execute(
            f"CREATE FUNCTION {KEY_FUNCTION}(stored {shared.postgres_type}) RETURNS bigint "
            f"LANGUAGE sql STABLE AS $$ SELECT id FROM {shared.table} "
            f"WHERE {shared.value_column} = stored $$"
        )
        column = shared.column
        schema_editor.execute(
            f"ALTER TABLE {EVENTS} ALTER COLUMN {column} DROP NOT NULL, "
            f"ALTER COLUMN {column} TYPE bigint USING CASE WHEN {column} = "
            f"{shared.empty}::{shared.postgres_type} THEN NULL ELSE {KEY_FUNCTION}({column}) END"
        )
        schema_editor.execute(f"ALTER TABLE {EVENTS} RENAME COLUMN {column} TO {shared.key_column}")
        schema_editor.execute(f"DROP FUNCTION {KEY_FUNCTION}({shared.postgres_type})")
        schema_editor.execute(f"DROP INDEX {shared.table}_value_hash")
        schema_editor.execute(
            f"CREATE TRIGGER {shared.table}_immutable_statement BEFORE UPDATE OR DELETE ON "
            f"{shared.table} FOR EACH STATEMENT EXECUTE FUNCTION logs_reject_audit_statement()"
        )
        return
    connection.ensure_connection()
    connection.connection.create_function(KEY_FUNCTION, 1, ids.get, deterministic=True)
    sqlite_triggers.remove(connection)
    schema_editor.execute(f"ALTER TABLE {EVENTS} ADD COLUMN {shared.key_column} integer NULL")
    schema_editor.execute(
        f"UPDATE {EVENTS} SET {shared.key_column} = {KEY_FUNCTION}({shared.column})"
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
            by_digest.setdefault(text_digest(shared.canonical(stored)), []).append(stored)
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
