"""Acting as someone with full write access to the database: the immutability triggers off.

verify_audit_log must find what such a person changes, on both databases, so the tests that
tamper first switch the triggers off the way that person could: dropped on SQLite, disabled
on PostgreSQL. Both happen inside the test's transaction, so the rollback that ends the test
puts them back.
"""

from django.db import connection, transaction


def _postgres_triggers(cursor) -> list[tuple[str, str]]:
    """(table, trigger) of every immutability trigger on PostgreSQL."""
    cursor.execute(
        "SELECT tgrelid::regclass::text, tgname FROM pg_trigger "
        "WHERE tgname LIKE %s AND NOT tgisinternal",
        ["%immutable%"],
    )
    return cursor.fetchall()


def switch_off_immutability_triggers() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table, name in _postgres_triggers(cursor):
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {name}")
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
                ["%immutable%"],
            )
            for (name,) in cursor.fetchall():
                cursor.execute(f"DROP TRIGGER {name}")


def tamper(sql: str, parameters=()) -> None:
    """Run ``sql`` as that person would: the triggers off, in a transaction of its own (inside
    the test's, whose rollback undoes both)."""
    with transaction.atomic():
        switch_off_immutability_triggers()
        with connection.cursor() as cursor:
            cursor.execute(sql, parameters)


def packed_original(text: str) -> bytes:
    """``text`` as the database stores an original (logs.originals): what someone writing an
    original of their own would store, so that it reads back as ``text``."""
    from logs.originals.codec import pack
    from logs.originals.dictionaries import writing_dictionary

    return pack(text, writing_dictionary(connection))


def switch_on_immutability_triggers() -> None:
    """Put back what ``switch_off_immutability_triggers`` took away: for a test that writes
    around the triggers outside a transaction of its own (a migration test), whose rollback
    cannot put them back."""
    from logs import sqlite_triggers

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table, name in _postgres_triggers(cursor):
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {name}")
        else:
            sqlite_triggers.install(connection)
