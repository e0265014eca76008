"""An event's ``additionalDetails`` stored once per distinct list (``DetailsList``).

Each event held its list (JSON text on SQLite, jsonb on PostgreSQL). Entra repeats a handful of
lists: most events carry none, most others one ``User-Agent`` entry. Events now hold a key to a
shared, sealed row, or null for none (docs/internals/storage.md).

- The distinct lists stored are read and one row stored for each, keyed by the SHA-256 of its
  canonical text (``logs.models.lookups.details_text``), and sealed as the loader seals new ones.
- Each event's list is then turned into its row's id in place, with no gap in the triggers:
  - PostgreSQL: ``ALTER COLUMN ... TYPE bigint USING`` a function that finds the row (jsonb
    equality, through a hash index kept only for the migration), then the column is renamed.
    A column rewrite is not an UPDATE: the statement triggers stay, and the table is written
    once, with no dead copy of each row.
  - SQLite: its triggers are dropped, the key column added and filled by one UPDATE, the old
    column dropped, and the triggers put back, in the migration's transaction. SQLite
    frees the space at the next ``VACUUM``.
- The new table gets the lookups' triggers (PostgreSQL's statement trigger here; SQLite's by
  ``logs.sqlite_triggers``).

Not in the chain: the chain record never held the details (they are derived from the original,
which verification compares them with), so every chain verifies unchanged. Going back writes
each event's list again and drops the table.
"""

import orjson
from django.db import migrations, models

from logs import sqlite_triggers
from logs.lookup_seals import LOOKUPS, seal_new_rows
from logs.models.lookups import details_digest, details_text

EVENTS = "logs_auditevent"
LISTS = "logs_detailslist"
KEY_FUNCTION = "logs_details_list_key"
LIST_FUNCTION = "logs_details_list_entries"


def to_lists(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        _store_lists(connection, "additional_details <> '[]'::jsonb", "%s::jsonb")
        schema_editor.execute(f"CREATE INDEX {LISTS}_entries_hash ON {LISTS} USING hash (entries)")
        schema_editor.execute(
            f"CREATE FUNCTION {KEY_FUNCTION}(details jsonb) RETURNS bigint LANGUAGE sql STABLE "
            f"AS $$ SELECT id FROM {LISTS} WHERE entries = details $$"
        )
        schema_editor.execute(
            f"ALTER TABLE {EVENTS} ALTER COLUMN additional_details DROP NOT NULL, "
            "ALTER COLUMN additional_details TYPE bigint USING "
            f"CASE WHEN additional_details = '[]'::jsonb THEN NULL "
            f"ELSE {KEY_FUNCTION}(additional_details) END"
        )
        schema_editor.execute(
            f"ALTER TABLE {EVENTS} RENAME COLUMN additional_details TO details_list_id"
        )
        schema_editor.execute(f"DROP FUNCTION {KEY_FUNCTION}(jsonb)")
        schema_editor.execute(f"DROP INDEX {LISTS}_entries_hash")
        schema_editor.execute(
            f"CREATE TRIGGER {LISTS}_immutable_statement BEFORE UPDATE OR DELETE ON {LISTS} "
            "FOR EACH STATEMENT EXECUTE FUNCTION logs_reject_audit_statement()"
        )
        return
    ids = _store_lists(connection, "additional_details <> '[]'", "%s")
    connection.ensure_connection()
    connection.connection.create_function(
        KEY_FUNCTION, 1, lambda text: ids.get(text), deterministic=True
    )
    sqlite_triggers.remove(connection)
    schema_editor.execute(f"ALTER TABLE {EVENTS} ADD COLUMN details_list_id integer NULL")
    schema_editor.execute(f"UPDATE {EVENTS} SET details_list_id = {KEY_FUNCTION}(additional_details)")
    schema_editor.execute(f"ALTER TABLE {EVENTS} DROP COLUMN additional_details")
    sqlite_triggers.install(connection)


def _store_lists(connection, non_empty: str, entries_parameter: str) -> dict[str, int]:
    """Store and seal one row per distinct list the events hold; stored text → row id."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT additional_details FROM {EVENTS} WHERE {non_empty}")
        stored_texts = [text for (text,) in cursor.fetchall()]
        by_digest: dict[str, list[str]] = {}
        for text in stored_texts:
            by_digest.setdefault(details_digest(details_text(orjson.loads(text))), []).append(text)
        ids = {}
        for digest, texts in by_digest.items():
            cursor.execute(
                f"INSERT INTO {LISTS} (digest, entries) VALUES (%s, {entries_parameter}) "
                "RETURNING id",
                [digest, texts[0]],
            )
            (pk,) = cursor.fetchone()
            ids.update(dict.fromkeys(texts, pk))
    seal_new_rows(connection, LOOKUPS[LISTS])
    return ids


def to_columns(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE FUNCTION {LIST_FUNCTION}(key bigint) RETURNS jsonb LANGUAGE sql STABLE "
            f"AS $$ SELECT entries FROM {LISTS} WHERE id = key $$"
        )
        schema_editor.execute(
            f"ALTER TABLE {EVENTS} ALTER COLUMN details_list_id TYPE jsonb USING "
            f"coalesce({LIST_FUNCTION}(details_list_id), '[]'::jsonb), "
            "ALTER COLUMN details_list_id SET NOT NULL"
        )
        schema_editor.execute(
            f"ALTER TABLE {EVENTS} RENAME COLUMN details_list_id TO additional_details"
        )
        schema_editor.execute(f"DROP FUNCTION {LIST_FUNCTION}(bigint)")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {LISTS}_immutable_statement ON {LISTS}")
        return
    sqlite_triggers.remove(connection)
    schema_editor.execute(
        f"ALTER TABLE {EVENTS} ADD COLUMN additional_details text NOT NULL DEFAULT '[]' "
        "CHECK (JSON_VALID(additional_details) OR additional_details IS NULL)"
    )
    schema_editor.execute(
        f"UPDATE {EVENTS} SET additional_details = "
        f"(SELECT entries FROM {LISTS} WHERE {LISTS}.id = details_list_id) "
        "WHERE details_list_id IS NOT NULL"
    )
    schema_editor.execute(f"ALTER TABLE {EVENTS} DROP COLUMN details_list_id")
    sqlite_triggers.install(connection)


def forget_seals(apps, schema_editor):
    """Going back: the table's seals go with it (the seal table refuses a DELETE outside
    retention, so its trigger is stepped around, as when the seals were first made)."""
    connection = schema_editor.connection
    lookup = LOOKUPS[LISTS].name
    if connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE logs_lookupseal DISABLE TRIGGER USER")
        schema_editor.execute("DELETE FROM logs_lookupseal WHERE lookup = %s", [lookup])
        schema_editor.execute("ALTER TABLE logs_lookupseal ENABLE TRIGGER USER")
        return
    sqlite_triggers.remove(connection)
    schema_editor.execute("DELETE FROM logs_lookupseal WHERE lookup = %s", [lookup])
    sqlite_triggers.install(connection)


class Migration(migrations.Migration):
    dependencies = [("logs", "0030_ordering_by_event_ids")]

    operations = [
        migrations.CreateModel(
            name="DetailsList",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("digest", models.CharField(editable=False, max_length=64, unique=True)),
                ("entries", models.JSONField(editable=False)),
            ],
            options={"verbose_name": "additional details list"},
        ),
        migrations.RunPython(migrations.RunPython.noop, forget_seals, elidable=False),
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(to_lists, to_columns, elidable=False)],
            state_operations=[
                migrations.RemoveField(model_name="auditevent", name="additional_details"),
                migrations.AddField(
                    model_name="auditevent",
                    name="details_list",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        editable=False,
                        null=True,
                        on_delete=models.deletion.PROTECT,
                        related_name="events",
                        to="logs.detailslist",
                        verbose_name="additional details",
                    ),
                ),
            ],
        ),
    ]
