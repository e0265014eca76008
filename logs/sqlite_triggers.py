"""SQLite triggers that refuse UPDATE and DELETE of audit records from raw SQL.

The ORM refuses such changes already, but raw SQL (``QuerySet._raw_delete()``, a cursor, the
``sqlite3`` shell) went straight through on SQLite, while PostgreSQL's triggers stopped it.
These triggers give SQLite the same rule:

- UPDATE of an audit record, a retention checkpoint, a lookup row or its seal, a signed
  digest, a compression dictionary, or a legal hold: always refused.
- DELETE of those: refused unless the triggers' function, ``auditportal_delete_allowed(kind)``
  (logs.immutability), says this thread is inside retention's window (audit rows) or emptying
  the whole database (Django's ``flush``). A connection opened around auditportal has no such
  function, so the trigger's call fails and the statement with it: refused as well.

SQLite triggers run once per row (there are no statement triggers), so retention's purge pays
one function call per deleted row; small beside the delete itself.

Annotations have no trigger (as on PostgreSQL): deleting a user sets ``created_by`` of their
annotations to null, an UPDATE that must go through; the ORM still refuses every other change.

Django rebuilds an SQLite table to alter it (a new table, copied, then renamed), which drops
its triggers; so the triggers are put back after every ``migrate`` (:func:`reinstall_after_migrate`,
a ``post_migrate`` receiver), not only by the migration that introduced them.
"""

from logs.immutability import SQLITE_DELETE_ALLOWED
from logs.lookup_seals import LOOKUPS, SEAL_TABLE

AUDIT_TABLES = [
    "logs_auditevent",
    "logs_target",
    "logs_modifiedproperty",
    "logs_chaincheckpoint",
    *LOOKUPS,
    SEAL_TABLE,
    "logs_chaindigest",
    # Every original packed with a dictionary names it (logs.originals).
    "logs_compressiondictionary",
]
HOLD_TABLES = ["logs_legalhold", "logs_legalholdrelease"]


def _triggers():
    """(table, name, CREATE statement) for every trigger."""
    for kind, tables, what in (
        ("audit", AUDIT_TABLES, "audit records are immutable"),
        ("hold", HOLD_TABLES, "legal holds are immutable"),
    ):
        for table in tables:
            yield (
                table,
                f"{table}_immutable_update",
                f"CREATE TRIGGER IF NOT EXISTS {table}_immutable_update BEFORE UPDATE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{what}: UPDATE on {table} is not allowed'); END",
            )
            yield (
                table,
                f"{table}_immutable_delete",
                f"CREATE TRIGGER IF NOT EXISTS {table}_immutable_delete BEFORE DELETE ON {table} "
                f"WHEN NOT {SQLITE_DELETE_ALLOWED}('{kind}') "
                f"BEGIN SELECT RAISE(ABORT, '{what}: DELETE on {table} is not allowed "
                "outside retention'); END",
            )


def install(connection) -> None:
    """Create the triggers that are missing (SQLite only), on the tables that exist: a
    migration that runs this comes before those that create later tables, whose triggers the
    ``post_migrate`` receiver adds."""
    if connection.vendor != "sqlite":
        return
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for table, _, create in _triggers():
            if table in existing:
                cursor.execute(create)


def remove(connection) -> None:
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for _, name, _ in _triggers():
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def reinstall_after_migrate(sender, using="default", **kwargs) -> None:
    """``post_migrate`` receiver: put back triggers a table rebuild dropped.

    Only once the seal table exists, i.e. the migration that introduced the triggers is
    applied (migrating back past it removes both)."""
    from django.db import connections

    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    if SEAL_TABLE in connection.introspection.table_names():
        install(connection)
