"""PostgreSQL: the target type filter reads the (event, position) index; its own goes.

The type filter asks, per event, "has it a target of type X?" (``filter_target_type``). An
index of (event, type) answered that from the index alone. On PostgreSQL the unique index of
(event, position), which every lookup of an event's targets reads, now carries the type as an
``INCLUDE`` column: the same question is answered from that index alone, and the second index
of every target row goes (docs/internals/storage.md).

SQLite has no ``INCLUDE``, and Django skips creating a unique constraint with one there (the
unique index would be lost on SQLite at the next rebuild of the table). So the models keep
both as they were, and this step is PostgreSQL's only, as migration 0025 was: a later
migration that altered either index on PostgreSQL would have to start from the database, not
from the models' state. A test checks the indexes each database has.
"""

from django.db import migrations

TABLE = "logs_target"
CONSTRAINT = "target_position_unique"
TYPE_INDEX = "target_event_type_idx"


def fold_type_into_position_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # The new index is built before the old one goes: the table never lacks its uniqueness.
    schema_editor.execute(
        f'ALTER TABLE "{TABLE}" ADD CONSTRAINT "{CONSTRAINT}_new"'
        ' UNIQUE ("event_id", "position") INCLUDE ("type")'
    )
    schema_editor.execute(f'ALTER TABLE "{TABLE}" DROP CONSTRAINT "{CONSTRAINT}"')
    schema_editor.execute(
        f'ALTER TABLE "{TABLE}" RENAME CONSTRAINT "{CONSTRAINT}_new" TO "{CONSTRAINT}"'
    )
    schema_editor.execute(f'DROP INDEX IF EXISTS "{TYPE_INDEX}"')


def restore_type_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "{TYPE_INDEX}" ON "{TABLE}" ("event_id", "type")'
    )
    schema_editor.execute(
        f'ALTER TABLE "{TABLE}" ADD CONSTRAINT "{CONSTRAINT}_old" UNIQUE ("event_id", "position")'
    )
    schema_editor.execute(f'ALTER TABLE "{TABLE}" DROP CONSTRAINT "{CONSTRAINT}"')
    schema_editor.execute(
        f'ALTER TABLE "{TABLE}" RENAME CONSTRAINT "{CONSTRAINT}_old" TO "{CONSTRAINT}"'
    )


class Migration(migrations.Migration):
    dependencies = [("logs", "0032_user_agents")]

    operations = [
        migrations.RunPython(fold_type_into_position_index, restore_type_index, elidable=False),
    ]
