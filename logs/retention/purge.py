"""Deleting a batch of events, and recording in the chain that retention deleted them.

Raw SQL by id ranges (logs.retention.ids), children first (modified properties, targets,
annotations, then the events): Django's delete collector loads every related row first and is
far too slow for tens of thousands of events a second. The only way in is
``retention_purge()``, so the immutability triggers (both databases) still refuse every other
delete. The checkpoint covering the batch is written in the same transaction, so the chain
always accounts for exactly what is gone.
"""

import contextlib

from django.db import connection

from logs.digests import seal_chain
from logs.digests.keys import signing_key_path
from logs.hash_chain import lock_chain
from logs.immutability import retention_purge
from logs.integrity import purged_ranges, record_checkpoint
from logs.models import Annotation, AuditEvent, ModifiedProperty, Target
from logs.retention.ids import id_condition


def purge_batch(ids: list[int], run: str) -> int:
    """Delete the events with these ids (those still stored); returns how many were deleted."""
    if not ids:
        return 0
    events = AuditEvent._meta.db_table
    postgres = connection.vendor == "postgresql"
    with _zeroing_only_pages_written_anyway(), retention_purge(), connection.cursor() as cursor:
        lock_chain()
        if postgres and not signing_key_path():
            # A commit lost to a crash only brings the batch's events back: they are in the
            # synced archive already, and the next run deletes them again (see run.py). Not
            # with signed digests: the batch's digest, written outside the database before
            # the commit, would then name a purge the database forgot.
            cursor.execute("SET LOCAL synchronous_commit = off")
        condition, parameters = id_condition("id", ids)
        delete_dependents(cursor, ids)
        if postgres:
            # The chain positions come back from the delete itself: no second pass.
            cursor.execute(
                f"DELETE FROM {events} WHERE {condition} RETURNING chain_seq, chain_link",
                parameters,
            )
            rows = cursor.fetchall()
            deleted = len(rows)
        else:
            # RETURNING needs SQLite 3.35; reading the rows first costs SQLite little.
            cursor.execute(
                f"SELECT chain_seq, chain_link FROM {events} WHERE {condition}", parameters
            )
            rows = cursor.fetchall()
            cursor.execute(f"DELETE FROM {events} WHERE {condition}", parameters)
            deleted = cursor.rowcount
        chained = [(seq, bytes(link)) for seq, link in rows if seq is not None]
        record_checkpoint(purged_ranges(chained), run)
        # The batch's checkpoint, signed and written outside the database with the purge.
        seal_chain()
    return deleted


def delete_dependents(cursor, ids: list[int]) -> None:
    """Delete what hangs off the events ``ids``: their targets' modified properties, their
    targets and their annotations. Call inside ``retention_purge()``, before the events go."""
    targets = Target._meta.db_table
    properties = ModifiedProperty._meta.db_table
    annotations = Annotation._meta.db_table
    event_condition, event_parameters = id_condition("event_id", ids)
    # The targets' own ids, so that their properties are found by ranges of target ids
    # too: joined to the targets, PostgreSQL read every stored property for each batch.
    # No target can be added meanwhile: targets are stored only with their event.
    cursor.execute(f"SELECT id FROM {targets} WHERE {event_condition}", event_parameters)
    target_ids = [row[0] for row in cursor.fetchall()]
    if target_ids:
        owned_condition, owned_parameters = id_condition("target_id", target_ids)
        cursor.execute(f"DELETE FROM {properties} WHERE {owned_condition}", owned_parameters)
        target_condition, target_parameters = id_condition("id", target_ids)
        cursor.execute(f"DELETE FROM {targets} WHERE {target_condition}", target_parameters)
    cursor.execute(f"DELETE FROM {annotations} WHERE {event_condition}", event_parameters)


# What ``PRAGMA secure_delete`` reads as, in the words it takes ("2" would set it on).
_SECURE_DELETE_MODES = {0: "OFF", 1: "ON", 2: "FAST"}


@contextlib.contextmanager
def _zeroing_only_pages_written_anyway():
    """On SQLite, ``secure_delete = FAST`` for the purge.

    Debian's SQLite (and others) is built with secure delete on: it overwrites every deleted
    row with zeros, and writes out each page a purge frees only to hold zeros, a large share
    of a purge's time (benchmark metric ``retention``). FAST still zeroes what is
    deleted from every page that is written anyway; a page freed whole keeps its old bytes on
    the free list until SQLite reuses it, as PostgreSQL keeps deleted rows until it vacuums.
    ``VACUUM`` rewrites the file without them. The setting belongs to the connection, so the
    previous one is put back.
    """
    if connection.vendor != "sqlite":
        yield
        return
    connection.ensure_connection()
    dbapi = connection.connection
    previous = dbapi.execute("PRAGMA secure_delete").fetchone()[0]
    dbapi.execute("PRAGMA secure_delete = FAST")
    try:
        yield
    finally:
        dbapi.execute(f"PRAGMA secure_delete = {_SECURE_DELETE_MODES[previous]}")
