"""PostgreSQL: drop the ``varchar_pattern_ops`` twin of the Entra id's unique index.

Django gives every unique or indexed ``CharField`` on PostgreSQL a second index for ``LIKE``
patterns. The Entra id is only ever looked up whole (an import's duplicate check, the
``activity_id`` filter, the search box's exact match, the Graph endpoint's ``id eq``), which
the unique index answers; the twin was as large as the unique index on the largest table and
served no query. SQLite has no such index. The field is unchanged, so Django would recreate the
twin only if a later migration altered the field; a test checks it stays gone.
"""

from django.db import migrations

TABLE = "logs_auditevent"


def _pattern_indexes(cursor) -> list[str]:
    cursor.execute(
        "SELECT indexname FROM pg_indexes WHERE tablename = %s"
        " AND indexdef LIKE %s AND indexdef LIKE %s",
        [TABLE, "%varchar_pattern_ops%", "%(entra_id %"],
    )
    return [name for (name,) in cursor.fetchall()]


def drop_pattern_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name in _pattern_indexes(cursor):
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def restore_pattern_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("logs", "AuditEvent")
    field = model._meta.get_field("entra_id")
    with schema_editor.connection.cursor() as cursor:
        if _pattern_indexes(cursor):
            return
    statement = schema_editor._create_like_index_sql(model, field)
    if statement is not None:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("logs", "0024_tolerant_import"),
    ]

    operations = [
        migrations.RunPython(drop_pattern_index, restore_pattern_index, elidable=False),
    ]
