"""Immutability of stored audit records, and the single way past it: retention.

Audit records, and the lookup rows whose text they show (services, categories, activities,
initiators, target names), are evidence. The ORM refuses to change or delete them (see the
managers and ``save`` overrides in ``logs.models``), and triggers refuse UPDATE and DELETE even
from raw SQL, on both databases. The one exception is ``retention_purge()``, which retention
uses to delete events that have been archived: it marks the current context (for the ORM) and
opens the window for the triggers.

How a trigger sees the window differs by database:

- PostgreSQL: a transaction-local setting (``auditportal.retention_purge``) the trigger reads.
- SQLite has no session settings, so every connection Django opens gets a function,
  ``auditportal_delete_allowed(kind)``, that tells the trigger whether this thread is inside the
  window (``register_sqlite_functions()``, run on ``connection_created``). A connection opened
  around auditportal (the ``sqlite3`` shell, another program) has no such function, and a
  trigger that calls an unknown function fails the statement ("no such function"): a raw
  DELETE there is refused too, which is the point (an UPDATE is refused outright, everywhere).

Emptying the whole database (Django's ``flush``, which the test harness runs between
transactional tests) is the other path through on SQLite: see ``emptying_database()``. On
PostgreSQL ``flush`` is ``TRUNCATE``, which the UPDATE/DELETE triggers do not see either; it
cannot pick, change or delete single records, only every table at once.
"""

import contextlib
import contextvars

from django.db import connections, transaction

# The PostgreSQL custom setting the trigger reads; SET LOCAL keeps it inside one transaction.
RETENTION_SETTING = "auditportal.retention_purge"
# The SQLite function the triggers call (see the module docstring).
SQLITE_DELETE_ALLOWED = "auditportal_delete_allowed"

_purge_active = contextvars.ContextVar("auditportal_retention_purge", default=False)
_emptying = contextvars.ContextVar("auditportal_emptying_database", default=False)


class ImmutableRecordError(Exception):
    """Raised when code tries to change or delete a stored audit record."""

    def __init__(self, model_name: str, action: str):
        super().__init__(
            f"{model_name} records are immutable: {action} is not allowed. "
            "Audit records are only removed by retention (apply_retention)."
        )


def purge_is_active() -> bool:
    return _purge_active.get()


@contextlib.contextmanager
def retention_purge(using: str = "default"):
    """Open the retention window: deletes of audit records inside it are allowed.

    Runs inside one transaction; on PostgreSQL the trigger sees the window only for that
    transaction, so nothing else on the connection can use it. On SQLite the triggers' function
    reads the same context variable the ORM does, so the window is this thread's only.
    """
    token = _purge_active.set(True)
    try:
        with transaction.atomic(using=using):
            connection = connections[using]
            postgres = connection.vendor == "postgresql"
            if postgres:
                _set_purge_setting(connection, "on")
            yield
            if postgres:
                # A transaction-local setting outlives a released savepoint, so when this block
                # is nested in an outer transaction the window must be shut explicitly.
                _set_purge_setting(connection, "off")
    finally:
        _purge_active.reset(token)


def _set_purge_setting(connection, value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, true)", [RETENTION_SETTING, value])


@contextlib.contextmanager
def emptying_database():
    """Let the SQLite triggers pass the deletes of Django's ``flush`` (every row of every table).

    Only the ``flush`` command (``logs/management/commands/flush.py``) opens it: the test
    harness empties the database with it between transactional tests, as an operator would to
    start over. It matches PostgreSQL, where ``flush`` is ``TRUNCATE`` and passes the triggers
    as well. Updates stay refused, and the ORM's own refusals are unaffected.
    """
    token = _emptying.set(True)
    try:
        yield
    finally:
        _emptying.reset(token)


def _sqlite_delete_allowed(kind: str) -> int:
    """The SQLite triggers' question: may this thread delete protected rows now?

    ``'audit'`` rows (events and what hangs off them, checkpoints, lookups) inside the retention
    window or a flush; ``'hold'`` rows (legal holds) only in a flush, as on PostgreSQL, where
    nothing ever deletes a hold."""
    if _emptying.get():
        return 1
    return int(kind == "audit" and _purge_active.get())


def register_sqlite_functions(sender=None, connection=None, **kwargs) -> None:
    """``connection_created`` receiver: give a new SQLite connection the triggers' function.

    Not deterministic: its answer changes as the window opens and closes, so SQLite must call
    it each time."""
    if connection is None or connection.vendor != "sqlite":
        return
    connection.connection.create_function(SQLITE_DELETE_ALLOWED, 1, _sqlite_delete_allowed)
