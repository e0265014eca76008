"""Deleting a batch of events, and recording in the chain that retention deleted them.

Raw SQL by id list, children first (modified properties, targets, annotations, then the
events): Django's delete collector loads every related row first and is far too slow for tens
of thousands of events a second. The only way in is ``retention_purge()``, so on PostgreSQL
the immutability trigger still refuses every other delete. The checkpoint covering the batch
is written in the same transaction, so the chain always accounts for exactly what is gone.
"""

from django.db import connection

from logs.immutability import retention_purge
from logs.integrity import lock_chain, purged_ranges, record_checkpoint
from logs.models import Annotation, AuditEvent, ModifiedProperty, Target
from logs.retention.ids import id_condition


def purge_batch(ids: list[int], run: str) -> int:
    """Delete the events with these ids (those still stored); returns how many were deleted."""
    if not ids:
        return 0
    events = AuditEvent._meta.db_table
    targets = Target._meta.db_table
    properties = ModifiedProperty._meta.db_table
    annotations = Annotation._meta.db_table
    with retention_purge(), connection.cursor() as cursor:
        lock_chain()
        condition, parameters = id_condition("id", ids)
        cursor.execute(
            f"SELECT chain_seq, chain_link FROM {events} WHERE {condition} "
            "AND chain_seq IS NOT NULL",
            parameters,
        )
        chained = [(seq, bytes(link)) for seq, link in cursor.fetchall()]
        event_condition, parameters = id_condition("event_id", ids)
        cursor.execute(
            f"DELETE FROM {properties} WHERE target_id IN "
            f"(SELECT id FROM {targets} WHERE {event_condition})",
            parameters,
        )
        cursor.execute(f"DELETE FROM {targets} WHERE {event_condition}", parameters)
        cursor.execute(f"DELETE FROM {annotations} WHERE {event_condition}", parameters)
        cursor.execute(f"DELETE FROM {events} WHERE {condition}", id_condition("id", ids)[1])
        deleted = cursor.rowcount
        record_checkpoint(purged_ranges(chained), run)
    return deleted
