"""A push either gets the database's write lock within a moment, or answers 503 at once.

A file import is one transaction per file, so that a file is stored whole or not at all and its
events enter the hash chain together; it holds the write lock until it ends, minutes for a large
file. On SQLite that lock is the database's (BEGIN IMMEDIATE), on PostgreSQL the chain's
advisory lock. A push that waited for it would wait minutes, and on SQLite give up after the
connection's 30-second busy timeout with a 500. Instead a push waits WRITE_LOCK_WAIT_SECONDS
(enough for another push, which holds the lock for a fraction of a second) and is otherwise
answered ``503 Service Unavailable`` with ``Retry-After``: pushes are idempotent, so the client
simply sends the request again.

Making imports give the lock up between batches was not chosen: a file would no longer be
stored whole or not at all, and a reader could see half a file.
"""

import contextlib

from django.db import OperationalError, connection, transaction

WRITE_LOCK_WAIT_SECONDS = 2
RETRY_AFTER_SECONDS = 10
BUSY_MESSAGE = (
    "The database is busy storing an import; nothing was stored. Send the request again in "
    f"{RETRY_AFTER_SECONDS} seconds (Retry-After): records already stored are skipped."
)

# How SQLite says another connection holds the lock (a file database, or the shared cache of
# one in memory); PostgreSQL's lock_not_available.
_SQLITE_LOCKED = ("database is locked", "database table is locked", "database schema is locked")
_LOCK_NOT_AVAILABLE = "55P03"


@contextlib.contextmanager
def short_lock_waits():
    """For the duration of a request: on SQLite, wait at most WRITE_LOCK_WAIT_SECONDS for the
    write lock instead of the connection's usual busy timeout."""
    if connection.vendor != "sqlite":
        yield
        return
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        usual = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA busy_timeout = {WRITE_LOCK_WAIT_SECONDS * 1000}")
    try:
        yield
    finally:
        if connection.connection is not None:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA busy_timeout = {int(usual)}")


@contextlib.contextmanager
def write_transaction():
    """One transaction for all of a push's writes. On SQLite it begins by taking the write lock
    (BEGIN IMMEDIATE, within short_lock_waits); on PostgreSQL any lock it waits for, the
    chain's included, is given up after WRITE_LOCK_WAIT_SECONDS. Either way a lock not
    obtained raises OperationalError (see is_lock_timeout)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{WRITE_LOCK_WAIT_SECONDS}s'")
        yield


def is_lock_timeout(error: BaseException) -> bool:
    """Whether ``error`` says the write lock was not obtained in time."""
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    if getattr(cause, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
        return True
    return any(text in str(error) for text in _SQLITE_LOCKED)
