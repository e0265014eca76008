"""PostgreSQL: the event table becomes partitioned by month of ``activity_datetime``.

See logs.partitions for the design (keys, uniqueness across partitions, partitions created as
needed) and docs/operators/partitions.md for the procedure on an existing database: the
table is rewritten, so the migration takes a lock on the events for as long as the copy lasts
(no import, browse or export meanwhile) and needs free disk space for a second copy.

The new table is built from what the old one has in the database, not from hard-coded DDL:
its columns (``LIKE``), every index (``pg_get_indexdef``, so indexes that earlier migrations
added with SQL, and any change a later index migration made before this one ran, come
along), its primary key and unique constraints (the partition key added to each) and its
statement trigger. Going back rebuilds one table the same way, the partition key taken out of
each constraint again. SQLite keeps one table: nothing to do there.

Django's model state is unchanged: the ORM keeps reading and writing ``logs_auditevent``.
"""

from datetime import UTC, datetime

from django.db import migrations

from logs.partitions import (
    EVENT_TABLE,
    MONTHS_AHEAD,
    PARTITION_KEY,
    create_partition,
    month_of,
    months_between,
    next_month,
)

# The old table's name while the new one is filled from it.
OLD_NAME = f"{EVENT_TABLE}_rebuilt"


def _indexes(cursor, table: str) -> list[str]:
    """The definitions of ``table``'s indexes that belong to no constraint."""
    cursor.execute(
        "SELECT pg_get_indexdef(i.indexrelid), i.indisunique FROM pg_index i "
        "WHERE i.indrelid = %s::regclass "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
        "ORDER BY i.indexrelid",
        [table],
    )
    definitions = []
    for definition, unique in cursor.fetchall():
        if unique:
            # A unique index outside a constraint would need the partition key too; none
            # exists on the event table, so one appearing is something to decide, not guess.
            raise RuntimeError(
                f"{table} has a unique index this migration does not know how to partition: "
                f"{definition}"
            )
        # A partitioned table's index is defined "ON ONLY" the parent; on one table, "ON".
        definitions.append(definition.replace(" ON ONLY ", " ON "))
    return definitions


def _keys(cursor, table: str) -> list[tuple[str, str, list[str]]]:
    """``table``'s primary key and unique constraints: (name, 'p' or 'u', columns)."""
    cursor.execute(
        "SELECT c.conname, c.contype, array_agg(a.attname ORDER BY k.position) "
        "FROM pg_constraint c "
        "CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, position) "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum "
        "WHERE c.conrelid = %s::regclass AND c.contype IN ('p', 'u') "
        "GROUP BY c.conname, c.contype ORDER BY c.contype, c.conname",
        [table],
    )
    return [(name, kind, list(columns)) for name, kind, columns in cursor.fetchall()]


def _triggers(cursor, table: str) -> list[str]:
    cursor.execute(
        "SELECT pg_get_triggerdef(oid) FROM pg_trigger "
        "WHERE tgrelid = %s::regclass AND NOT tgisinternal ORDER BY tgname",
        [table],
    )
    return [definition for (definition,) in cursor.fetchall()]


def _sequence_position(cursor, table: str) -> tuple[str, int, bool]:
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    sequence = cursor.fetchone()[0]
    cursor.execute(f"SELECT last_value, is_called FROM {sequence}")
    return (sequence, *cursor.fetchone())


def _is_partitioned(cursor) -> bool:
    cursor.execute(
        "SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [EVENT_TABLE]
    )
    return cursor.fetchone() is not None


def _rebuild(cursor, *, partition: bool) -> None:
    """Rebuild the event table partitioned by month (or, going back, as one table), with the
    same columns, rows, indexes, keys, trigger and identity position."""
    indexes = _indexes(cursor, EVENT_TABLE)
    keys = _keys(cursor, EVENT_TABLE)
    triggers = _triggers(cursor, EVENT_TABLE)
    sequence, last_value, is_called = _sequence_position(cursor, EVENT_TABLE)
    cursor.execute(f"LOCK TABLE {EVENT_TABLE} IN ACCESS EXCLUSIVE MODE")
    cursor.execute(f"ALTER TABLE {EVENT_TABLE} RENAME TO {OLD_NAME}")
    cursor.execute(
        f"CREATE TABLE {EVENT_TABLE} (LIKE {OLD_NAME} INCLUDING DEFAULTS INCLUDING IDENTITY "
        "INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS)"
        + (f" PARTITION BY RANGE ({PARTITION_KEY})" if partition else "")
    )
    if partition:
        cursor.execute(f"SELECT min({PARTITION_KEY}) FROM {OLD_NAME}")
        oldest = cursor.fetchone()[0]
        first = month_of(oldest or datetime.now(UTC))
        last = month_of(datetime.now(UTC))
        for _ in range(MONTHS_AHEAD):
            last = next_month(last)
        cursor.execute(f"SELECT max({PARTITION_KEY}) FROM {OLD_NAME}")
        newest = cursor.fetchone()[0]
        if newest is not None:
            last = max(last, month_of(newest))
        for month in months_between(first, last):
            create_partition(cursor, month)
    # Rows copied before the indexes exist: building an index once is far quicker than
    # maintaining it row by row.
    cursor.execute(f"INSERT INTO {EVENT_TABLE} SELECT * FROM {OLD_NAME}")
    # CASCADE: going back, the old parent's partitions go with it.
    cursor.execute(f"DROP TABLE {OLD_NAME} CASCADE")
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [EVENT_TABLE])
    new_sequence = cursor.fetchone()[0]
    cursor.execute(f"ALTER SEQUENCE {new_sequence} RENAME TO {sequence.split('.')[-1]}")
    cursor.execute("SELECT setval(%s, %s, %s)", [sequence, last_value, is_called])
    for name, kind, columns in keys:
        if partition:
            columns = [*columns, PARTITION_KEY]
        else:
            columns = [column for column in columns if column != PARTITION_KEY]
        constraint = "PRIMARY KEY" if kind == "p" else "UNIQUE"
        cursor.execute(
            f'ALTER TABLE {EVENT_TABLE} ADD CONSTRAINT "{name}" {constraint} '
            f"({', '.join(columns)})"
        )
    for definition in indexes:
        cursor.execute(definition)
    for definition in triggers:
        cursor.execute(definition)
    cursor.execute(f"ANALYZE {EVENT_TABLE}")


def partition_events(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        if not _is_partitioned(cursor):
            _rebuild(cursor, partition=True)


def unpartition_events(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        if _is_partitioned(cursor):
            _rebuild(cursor, partition=False)


class Migration(migrations.Migration):
    dependencies = [
        ("logs", "0025_drop_entra_id_pattern_index"),
    ]

    operations = [
        migrations.RunPython(partition_events, unpartition_events, elidable=False),
    ]
