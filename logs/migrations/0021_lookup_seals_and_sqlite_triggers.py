"""Lookup rows are sealed and immutable; SQLite gets immutability triggers too.

- ``LookupSeal``: one seal per lookup row (logs.lookup_seals). Rows stored before are sealed
  here, their text taken as it stands now.
- PostgreSQL: the statement-level trigger of migration 0009 on the lookup tables and the seal
  table: UPDATE always refused, DELETE outside the retention window refused.
- SQLite: row-level triggers on the audit, lookup, seal and legal hold tables
  (logs.sqlite_triggers), which until now only the ORM protected there.

Reversible: going back drops the triggers and the seals.
"""

from django.db import migrations, models

from logs import sqlite_triggers
from logs.lookup_seals import LOOKUPS, SEAL_TABLE, seal_new_rows

# The lookup tables there were then; later ones are sealed and triggered by their own migration.
LOOKUP_TABLES = [
    "logs_service",
    "logs_category",
    "logs_activity",
    "logs_initiator",
    "logs_targetname",
]
POSTGRES_TABLES = [*LOOKUP_TABLES, SEAL_TABLE]


def seal_stored_rows(apps, schema_editor):
    for table in LOOKUP_TABLES:
        seal_new_rows(schema_editor.connection, LOOKUPS[table])


def create_triggers(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        # logs_reject_audit_statement() is migration 0009's.
        for table in POSTGRES_TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_immutable_statement "
                f"BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION logs_reject_audit_statement()"
            )
    else:
        sqlite_triggers.install(connection)


def drop_triggers(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        for table in POSTGRES_TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_immutable_statement ON {table}")
    else:
        sqlite_triggers.remove(connection)


class Migration(migrations.Migration):
    dependencies = [("logs", "0020_access_account_and_permission_records")]

    operations = [
        migrations.CreateModel(
            name="LookupSeal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "lookup",
                    models.CharField(
                        help_text='The lookup table, e.g. "activity".', max_length=32
                    ),
                ),
                ("row_id", models.BigIntegerField()),
                (
                    "seal",
                    models.BinaryField(help_text="A keyed MAC of the row, then one per sealed field, in order."),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("lookup", "row_id"), name="lookup_seal_row_unique"
                    )
                ],
            },
        ),
        migrations.RunPython(seal_stored_rows, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
    ]
