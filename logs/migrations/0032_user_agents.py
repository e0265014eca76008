"""An initiator's user agent stored once per distinct text (``UserAgent``).

Each event held the text; a tenant's events repeat a few hundred. Events now hold a key to a
shared, sealed row, or null for none (docs/internals/storage.md). How the column is turned into
keys in place, and back, is ``logs.shared_values``'s.

The chain record holds the text, read through the row (logs.integrity), so every chain
verifies unchanged, and a text changed afterwards breaks its events' links as well as its seal.
"""

from django.db import migrations, models

from logs.shared_values import SharedColumn, to_keys, to_values

USER_AGENTS = SharedColumn(
    column="initiator_user_agent",
    key_column="user_agent_id",
    table="logs_useragent",
    value_column="text",
    postgres_type="text",
    empty="''",
    sqlite_definition="text NOT NULL DEFAULT ''",
    canonical=lambda stored: stored,
)


def to_user_agents(apps, schema_editor):
    to_keys(schema_editor, USER_AGENTS)


def to_texts(apps, schema_editor):
    to_values(schema_editor, USER_AGENTS)


class Migration(migrations.Migration):
    dependencies = [("logs", "0031_details_lists")]

    operations = [
        migrations.CreateModel(
            name="UserAgent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("digest", models.CharField(editable=False, max_length=64)),
                ("text", models.TextField(editable=False)),
            ],
            options={
                "abstract": False,
                "constraints": [
                    models.UniqueConstraint(fields=("digest",), name="logs_useragent_digest_key")
                ],
            },
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunPython(to_user_agents, to_texts, elidable=False)
            ],
            state_operations=[
                migrations.RemoveField(model_name="auditevent", name="initiator_user_agent"),
                migrations.AddField(
                    model_name="auditevent",
                    name="user_agent",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        editable=False,
                        null=True,
                        on_delete=models.deletion.PROTECT,
                        related_name="events",
                        to="logs.useragent",
                    ),
                ),
            ],
        ),
    ]
