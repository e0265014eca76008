"""Immutability of stored audit records, and the single way past it: retention.

Audit records are evidence. The ORM refuses to change or delete them (see the managers and
``save`` overrides in ``logs.models``), and on PostgreSQL a trigger refuses UPDATE and DELETE
even from raw SQL. The one exception is ``retention_purge()``, which retention uses to delete
events that have been archived: it marks the current context (for the ORM) and, on PostgreSQL,
sets a transaction-local setting that the trigger checks.
"""

import contextlib
import contextvars

from django.db import connections, transaction

# The PostgreSQL custom setting the trigger reads; SET LOCAL keeps it inside one transaction.
RETENTION_SETTING = "auditportal.retention_purge"

_purge_active = contextvars.ContextVar("auditportal_retention_purge", default=False)


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
    transaction, so nothing else on the connection can use it.
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
