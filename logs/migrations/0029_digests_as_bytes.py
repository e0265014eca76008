"""An event's ``content_hash`` and ``match_key`` stored as their 32 bytes (logs.models.digest_field).

Each was 64 hexadecimal characters; as bytes, the event row is 64 bytes smaller. Rows are
rewritten, which the immutability triggers forbid, so each database does it the way 0027 did
for the originals, with no gap in them:

- PostgreSQL: one ``ALTER TABLE ... ALTER COLUMN ... TYPE bytea USING decode(..., 'hex')`` for
  both columns. A column rewrite is not an UPDATE (the statement triggers stay), it writes the
  table once, with no dead copy of each row, and rebuilds the CSV rows' match-key index.
- SQLite: its triggers are dropped, both columns converted by one UPDATE, and the triggers put
  back, in the migration's transaction. The columns keep their declared type: SQLite stores
  bytes as bytes in any column, and changing the type would copy the whole table.

A value that is not a digest in lowercase hexadecimal (a row written around auditportal) stops
the migration with the database's or this module's error, naming it; nothing is converted
then. Going back writes the hexadecimal text again.

Not in the chain: the chain record holds neither digest, so every chain verifies unchanged.
"""

from django.db import migrations

from logs import sqlite_triggers
from logs.models.digest_field import DigestField, digest_bytes

EVENTS = "logs_auditevent"
COLUMNS = ("content_hash", "match_key")
SQLITE_FUNCTION = "logs_digest_bytes"


def to_bytes(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        _alter_postgres(
            schema_editor,
            "bytea",
            "decode({column}, 'hex')",
            "'\\x'::bytea",
        )
    else:
        connection.ensure_connection()
        connection.connection.create_function(
            SQLITE_FUNCTION, 1, _sqlite_digest_bytes, deterministic=True
        )
        _update_sqlite(schema_editor, f"{SQLITE_FUNCTION}({{column}})")


def to_text(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        _alter_postgres(schema_editor, "varchar(64)", "encode({column}, 'hex')", "''")
    else:
        _update_sqlite(schema_editor, "lower(hex({column}))")


def _sqlite_digest_bytes(value):
    if value is None or isinstance(value, bytes):
        return value
    return digest_bytes(value)


def _alter_postgres(schema_editor, new_type: str, using: str, default: str) -> None:
    for column in COLUMNS:
        schema_editor.execute(f"ALTER TABLE {EVENTS} ALTER COLUMN {column} DROP DEFAULT")
    schema_editor.execute(
        f"ALTER TABLE {EVENTS} "
        + ", ".join(
            f"ALTER COLUMN {column} TYPE {new_type} USING {using.format(column=column)}"
            for column in COLUMNS
        )
    )
    for column in COLUMNS:
        schema_editor.execute(f"ALTER TABLE {EVENTS} ALTER COLUMN {column} SET DEFAULT {default}")


def _update_sqlite(schema_editor, expression: str) -> None:
    connection = schema_editor.connection
    sqlite_triggers.remove(connection)
    schema_editor.execute(
        f"UPDATE {EVENTS} SET "
        + ", ".join(f"{column} = {expression.format(column=column)}" for column in COLUMNS)
    )
    sqlite_triggers.install(connection)


class Migration(migrations.Migration):
    dependencies = [("logs", "0028_csv_match_key_index")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(to_bytes, to_text)],
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent",
                    name=column,
                    field=DigestField(blank=True, db_default=b"", editable=False),
                )
                for column in COLUMNS
            ],
        ),
    ]
