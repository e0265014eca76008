"""Fast inserts of many rows: ids reserved up front, then executemany (SQLite) or COPY (PostgreSQL).

The ORM's bulk_create compiles every value through the field machinery and needs RETURNING to
learn the new ids; at millions of events that dominates the import. Reserving ids first lets
targets and modified properties reference their parents without a round trip, and the rows go
to the database in one statement per table per batch.
"""

from django.db import connection


def reserve_ids(model, count: int) -> list[int]:
    """``count`` fresh primary keys for ``model``; call inside the import's transaction."""
    if count == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite: the transaction holds the database's write lock (BEGIN IMMEDIATE), so no other
        # writer can take these ids; sqlite_sequence remembers ids of rows already deleted.
        cursor.execute(
            f"SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "
            f'coalesce((SELECT max(id) FROM "{table}"), 0))',
            [table],
        )
        start = cursor.fetchone()[0] + 1
        return list(range(start, start + count))


def insert_rows(model, columns: list[str], rows: list[tuple]) -> None:
    """Insert ``rows`` (values already in database form) into ``model``'s table."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    column_list = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({column_list}) VALUES ({placeholders})", rows)
