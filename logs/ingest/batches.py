"""Import batches of file imports: opened and claimed by their process, closed whatever happens,
and marked interrupted when their process died without closing them.

A file import writes its ImportBatch as ``running`` before it reads the file, so that the admin
shows what is under way, and closes it when it ends (``import_file`` closes it on any error).
A process that is killed (SIGKILL, the machine losing power, the kernel out of memory) cannot
close it, so every import first looks for running batches whose process is gone, and marks
them ``interrupted``. A push never needs this: its batch is written and closed in the one
transaction that stores its records (logs/api/ingest.py), so no one ever sees it running.

"Gone" must never catch a live import: several importers may run at once (scheduled jobs, on
PostgreSQL from several machines). Each process therefore holds a *claim* on its batch for as
long as it works on it, one that is released by the system itself when the process ends, however
it ends:

- PostgreSQL: a session-level advisory lock on the batch's id, taken inside the transaction that
  inserts the row, so no other session ever sees the row unclaimed. The server releases it when
  the session ends, whichever machine the process ran on; ``pg_try_advisory_lock`` from another
  session tells a held claim from an abandoned one.
- SQLite (one machine, by nature): an exclusive ``flock`` on a file named after the batch, beside
  the database file, taken before the row's transaction commits. The kernel releases it when the
  process dies. (A database in memory, the test suite's, needs none: no other process can open
  it.)

A heartbeat was not chosen: on SQLite a running import holds the database's write lock, so no
other connection could write its heartbeat, and an old timestamp is a guess where a released
lock is a fact. Process ids were not chosen: several machines import into one PostgreSQL
database, and ids are reused.
"""

import fcntl
import logging
import os
from pathlib import Path

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from logs.models import AuditEvent, ImportBatch

logger = logging.getLogger(__name__)

# The first key of the advisory locks that claim batches (pg_advisory_lock(int, int)): the
# second is the batch id. Other advisory locks of auditportal use the one-key form.
CLAIM_LOCK_CLASS = 0x1B47C4
# This process's claims, by batch id: the claim file's descriptor on SQLite, None on
# PostgreSQL (where a session may take the same advisory lock again, so its own claims must be
# known to be skipped).
_own_claims: dict[int, int | None] = {}
# Claims this process took on abandoned batches to mark them, by batch id (as _own_claims).
_probes: dict[int, int | None] = {}
# The claim of a batch in an SQLite database in memory (the test suite's), which no other
# process can open: there is nothing to lock.
_NOTHING_HELD = -1


def open_batch(**fields) -> ImportBatch:
    """A new running ImportBatch, claimed by this process; abandoned ones are marked first."""
    mark_interrupted_batches()
    batch = None
    try:
        with transaction.atomic():
            batch = ImportBatch.objects.create(**fields)
            _claim(batch.pk)
    except BaseException:
        if batch is not None and batch.pk in _own_claims:
            _unlock(batch.pk, _own_claims.pop(batch.pk))
        raise
    return batch


def release_claim(batch: ImportBatch) -> None:
    """Give up this process's claim on ``batch``, once it is closed (or could not be)."""
    if batch.pk in _own_claims:
        _unlock(batch.pk, _own_claims.pop(batch.pk))


def abandoned_batches() -> list[int]:
    """The running batches that no live process claims (their process died)."""
    running = ImportBatch.objects.filter(status=ImportBatch.Status.RUNNING)
    abandoned = []
    for pk in running.values_list("pk", flat=True):
        if pk not in _own_claims and _abandoned(pk):
            if pk in _probes:
                _unlock(pk, _probes.pop(pk))
            abandoned.append(pk)
    return abandoned


def mark_interrupted_batches() -> list[int]:
    """Mark ``interrupted`` every running batch that no live process claims; their ids.

    Never fails the import that calls it: on SQLite another import may hold the write lock,
    and the next run will look again.
    """
    try:
        running = list(
            ImportBatch.objects.filter(status=ImportBatch.Status.RUNNING).values_list(
                "pk", flat=True
            )
        )
        return [
            pk
            for pk in running
            if pk not in _own_claims and _abandoned(pk) and _mark_interrupted(pk)
        ]
    except DatabaseError as error:
        logger.warning("Could not look for interrupted imports now: %s", error)
        return []


def _mark_interrupted(pk: int) -> bool:
    try:
        stored = AuditEvent.objects.filter(import_batch_id=pk).count()
        kept = (
            f"; the {stored:,} events it stored were committed and are kept"
            if stored
            else "; nothing was kept"
        )
        return bool(
            ImportBatch.objects.filter(pk=pk, status=ImportBatch.Status.RUNNING).update(
                status=ImportBatch.Status.INTERRUPTED,
                finished_at=timezone.now(),
                records_new=stored,
                error=f"The importing process ended before it closed this batch{kept}.",
            )
        )
    finally:
        if pk in _probes:
            _unlock(pk, _probes.pop(pk))


# Claims --------------------------------------------------------------------------------------


def _lock_key(pk: int) -> int:
    """The batch id as the signed 32-bit key pg_advisory_lock(int, int) takes."""
    return (pk & 0xFFFFFFFF) - (1 << 32 if pk & 0x80000000 else 0)


def _claim(pk: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [CLAIM_LOCK_CLASS, _lock_key(pk)])
        _own_claims[pk] = None
        return
    if connection.is_in_memory_db():
        # No other process can open this database: knowing our own claims is enough.
        _own_claims[pk] = _NOTHING_HELD
        return
    path = _claim_path(pk)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    _own_claims[pk] = descriptor


def _abandoned(pk: int) -> bool:
    """Whether no process holds ``pk``'s claim; if so, this process holds it now, in _probes."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [CLAIM_LOCK_CLASS, _lock_key(pk)])
            taken = cursor.fetchone()[0]
        if taken:
            _probes[pk] = None
        return taken
    if connection.is_in_memory_db():
        return True  # not this process's own (checked before), so no one's
    try:
        descriptor = os.open(_claim_path(pk), os.O_RDWR)
    except FileNotFoundError:
        return True  # never claimed (a batch from before claims), or closed meanwhile
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return False
    _probes[pk] = descriptor
    return True


def _unlock(pk: int, descriptor: int | None) -> None:
    """Release a claim: the advisory lock, or the claim file (removed first, while held)."""
    if descriptor == _NOTHING_HELD:
        return
    if descriptor is None:
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_unlock(%s, %s)", [CLAIM_LOCK_CLASS, _lock_key(pk)]
                )
        except DatabaseError:
            pass  # the session is gone, and its locks with it
        return
    try:
        _claim_path(pk).unlink(missing_ok=True)
    finally:
        os.close(descriptor)


def _claim_path(pk: int) -> Path:
    """The claim file of batch ``pk``, in a directory beside the SQLite database file."""
    return Path(f"{connection.settings_dict['NAME']}-import-claims") / str(pk)
