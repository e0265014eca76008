"""Signed digests of the hash chain (logs.digests), immutable like the chain itself.

On PostgreSQL the statement-level trigger of migration 0009 refuses UPDATE and DELETE on the
digest table too: removing a digest takes dropping the trigger, and the outside copies still
show it.
"""

from django.db import migrations, models

TABLE = "logs_chaindigest"


def protect(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE TRIGGER {TABLE}_immutable_statement BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION logs_reject_audit_statement()"
        )


def unprotect(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_immutable_statement ON {TABLE}")


class Migration(migrations.Migration):
    dependencies = [("logs", "0021_lookup_seals_and_sqlite_triggers")]

    operations = [
        migrations.CreateModel(
            name="ChainDigest",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.BigIntegerField(unique=True)),
                ("created_at", models.DateTimeField()),
                ("first_seq", models.BigIntegerField()),
                ("last_seq", models.BigIntegerField()),
                ("events", models.BigIntegerField()),
                (
                    "checkpoint_upto",
                    models.BigIntegerField(
                        default=0, help_text="The newest retention checkpoint id covered so far."
                    ),
                ),
                ("payload", models.TextField()),
                ("signature", models.BinaryField(max_length=64)),
            ],
            options={"ordering": ["number"]},
        ),
        migrations.RunPython(protect, unprotect),
    ]
