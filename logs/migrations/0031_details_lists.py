"""An event's ``additionalDetails`` stored once per distinct list (``DetailsList``).

Each event held its list (JSON text on SQLite, jsonb on PostgreSQL). Entra repeats a handful of
lists: most events carry none, most others one ``User-Agent`` entry. Events now hold a key to a
shared, sealed row, or null for none (docs/internals/storage.md). How the column is turned into
keys in place, and back, is ``logs.shared_values``'s; a list's row is found by the SHA-256 of
its canonical text (``logs.models.lookups.details_text``) and, on PostgreSQL, by jsonb equality.

Not in the chain: the chain record never held the details (they are derived from the original,
which verification compares them with), so every chain verifies unchanged.
"""

import orjson
from django.db import migrations, models

from logs.models.lookups import details_text
from logs.shared_values import SharedColumn, to_keys, to_values

DETAILS = SharedColumn(
    column="additional_details",
    key_column="details_list_id",
    table="logs_detailslist",
    value_column="entries",
    postgres_type="jsonb",
    empty="'[]'",
    sqlite_definition=(
        "text NOT NULL DEFAULT '[]' "
        "CHECK (JSON_VALID(additional_details) OR additional_details IS NULL)"
    ),
    canonical=lambda stored: details_text(orjson.loads(stored)),
)


def to_lists(apps, schema_editor):
    to_keys(schema_editor, DETAILS)


def to_columns(apps, schema_editor):
    to_values(schema_editor, DETAILS)


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
                ("digest", models.CharField(editable=False, max_length=64)),
                ("entries", models.JSONField(editable=False)),
            ],
            options={
                "verbose_name": "additional details list",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("digest",), name="logs_detailslist_digest_key"
                    )
                ],
            },
        ),
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
