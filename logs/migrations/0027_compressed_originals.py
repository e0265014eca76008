"""Originals stored compressed (logs.originals): the dictionary table, the shipped dictionary, and
every stored original rewritten in its packed form.

The chain hashes each original's text, which does not change: every chain still verifies, and
exports still give the same bytes. Rows are rewritten, which the immutability triggers forbid,
so each database does it the way that needs no gap in them:

- PostgreSQL: the packed values are computed in Python into a temporary table, and one
  ``ALTER TABLE ... ALTER COLUMN original TYPE bytea USING`` takes each row's value from there.
  A column rewrite is not an UPDATE (the statement triggers stay in place), and it writes the
  table once, without the dead copy of every row that an UPDATE leaves behind. The table is
  locked against writes from the start, so no event can arrive between the two steps.
- SQLite: its triggers are dropped, the rows updated in id order, and the triggers put back,
  all in the migration's transaction. SQLite stores bytes in a column declared ``text`` as
  bytes, so the column keeps its declared type (changing it would copy the whole table).

The migration runs in one transaction on both databases: interrupted, it leaves nothing done,
and runs again from the start. Going back decompresses every original into text again.
"""

import hashlib

from django.db import migrations, models

from logs import sqlite_triggers
from logs.originals.codec import Dictionary, pack
from logs.originals.dictionaries import SHIPPED_ORIGIN, original_text, shipped_data
from logs.originals.field import PackedTextField

TABLE = "logs_compressiondictionary"
EVENTS = "logs_auditevent"
CHUNK = 5_000
STAGING = "logs_rewritten_original"


def store_shipped_dictionary(apps, schema_editor):
    data = shipped_data()
    apps.get_model("logs", "CompressionDictionary").objects.using(
        schema_editor.connection.alias
    ).create(data=data, sha256=hashlib.sha256(data).hexdigest(), origin=SHIPPED_ORIGIN)


def protect(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        # logs_reject_audit_statement() is migration 0009's.
        schema_editor.execute(
            f"CREATE TRIGGER {TABLE}_immutable_statement BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION logs_reject_audit_statement()"
        )
    else:
        sqlite_triggers.install(connection)


def unprotect(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_immutable_statement ON {TABLE}")
    else:
        for suffix in ("update", "delete"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_immutable_{suffix}")


def pack_originals(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, data FROM {TABLE} ORDER BY id DESC LIMIT 1")
        pk, data = cursor.fetchone()
    dictionary = Dictionary(pk, bytes(data))
    rewrite_originals(connection, lambda text: pack(text, dictionary), "bytea")


def unpack_originals(apps, schema_editor):
    connection = schema_editor.connection
    rewrite_originals(connection, lambda value: original_text(value, connection), "text")


def rewrite_originals(connection, transform, postgres_type: str) -> None:
    """Replace every event's original with ``transform(original)``, in one transaction."""
    if connection.vendor == "postgresql":
        _rewrite_postgres(connection, transform, postgres_type)
    else:
        _rewrite_sqlite(connection, transform)


def _chunks(cursor):
    after = 0
    while True:
        cursor.execute(
            f"SELECT id, original FROM {EVENTS} WHERE id > %s ORDER BY id LIMIT %s",
            [after, CHUNK],
        )
        rows = cursor.fetchall()
        if not rows:
            return
        yield rows
        after = rows[-1][0]


def _rewrite_postgres(connection, transform, postgres_type: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {EVENTS} IN EXCLUSIVE MODE")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGING} (id bigint PRIMARY KEY, value {postgres_type} "
            "NOT NULL) ON COMMIT DROP"
        )
        for rows in _chunks(cursor):
            # Transformed before the COPY starts: reading a dictionary is a query, which the
            # connection cannot run in the middle of a COPY.
            values = [(pk, transform(value)) for pk, value in rows]
            with cursor.copy(f"COPY {STAGING} (id, value) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        cursor.execute(f"ANALYZE {STAGING}")
        # A function, because the USING expression of a column rewrite may not hold a query.
        cursor.execute(
            f"CREATE FUNCTION pg_temp.{STAGING}(bigint) RETURNS {postgres_type} LANGUAGE sql "
            f"STABLE AS $$ SELECT value FROM {STAGING} WHERE id = $1 $$"
        )
        cursor.execute(
            f"ALTER TABLE {EVENTS} ALTER COLUMN original TYPE {postgres_type} "
            f"USING pg_temp.{STAGING}(id)"
        )
        cursor.execute(f"DROP FUNCTION pg_temp.{STAGING}(bigint)")
        cursor.execute(f"DROP TABLE {STAGING}")


def _rewrite_sqlite(connection, transform) -> None:
    sqlite_triggers.remove(connection)
    with connection.cursor() as cursor:
        for rows in _chunks(cursor):
            cursor.executemany(
                f"UPDATE {EVENTS} SET original = %s WHERE id = %s",
                [(transform(value), pk) for pk, value in rows],
            )
    sqlite_triggers.install(connection)


class Migration(migrations.Migration):
    dependencies = [("logs", "0026_event_month_partitions")]

    operations = [
        migrations.CreateModel(
            name="CompressionDictionary",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("data", models.BinaryField()),
                ("sha256", models.CharField(max_length=64)),
                ("origin", models.TextField()),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"ordering": ["id"]},
        ),
        migrations.RunPython(store_shipped_dictionary, migrations.RunPython.noop),
        migrations.RunPython(protect, unprotect),
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(pack_originals, unpack_originals)],
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent",
                    name="original",
                    field=PackedTextField(help_text="The record as the source sent it (JSON)."),
                )
            ],
        ),
    ]
