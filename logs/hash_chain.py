"""Appending to the hash chain: each new event's sequence number and link, under the lock that
serialises appends.

The chain's design, and its verification, are in logs.integrity. These are the primitives every
writer of events uses (the loader, and ``AuditEvent.save`` for an event saved on its own), kept
apart so that the models need nothing above them: they read and write tables by name, never
through the models.
"""

import hashlib
from datetime import UTC, datetime

import orjson
from django.db import connection
from django.dispatch import Signal

GENESIS = bytes(32)
# pg_advisory_xact_lock key for appending to the chain ("auditlog" in ASCII).
CHAIN_LOCK_KEY = 0x617564_69746C6F67

EVENT_TABLE = "logs_auditevent"
CHECKPOINT_TABLE = "logs_chaincheckpoint"

# Sent by ``AuditEvent.save`` after it inserted an event it appended, inside that transaction:
# the signed digests (logs.digests, above the models) seal what the chain gained there
# (connected in ``LogsConfig.ready``).
event_appended = Signal()


def chain_datetime(moment: datetime) -> str:
    """The activity date as the chain record holds it: UTC, always six fractional digits.

    Formatted with ``%`` from the fields: strftime costs several times as much, once per
    imported event."""
    if moment.tzinfo is not None and moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return "%04d-%02d-%02d %02d:%02d:%02d.%06d" % (  # noqa: UP031
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond,
    )


def chain_link(previous: bytes, seq: int, fields: tuple) -> bytes:
    """The link of the event at ``seq`` whose chain fields (see logs.integrity, without
    ``seq``) are ``fields``."""
    return hashlib.sha256(previous + orjson.dumps((seq, *fields))).digest()


def lock_chain() -> None:
    """Serialise appends to the chain until the current transaction ends.

    On SQLite the transaction already holds the database's write lock (BEGIN IMMEDIATE)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


def chain_head() -> tuple[int, bytes]:
    """The sequence number and link of the chain's last element: the newest stored event, or
    the end of the newest purged range when retention removed the newest events."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT chain_seq, chain_link FROM {EVENT_TABLE} WHERE chain_seq IS NOT NULL "
            "ORDER BY chain_seq DESC LIMIT 1"
        )
        event = cursor.fetchone()
        cursor.execute(
            f"SELECT last_seq, last_link FROM {CHECKPOINT_TABLE} ORDER BY last_seq DESC LIMIT 1"
        )
        checkpoint = cursor.fetchone()
    heads = [(row[0], bytes(row[1])) for row in (event, checkpoint) if row is not None]
    return max(heads, default=(0, GENESIS))


class ChainAppender:
    """Hands out sequence numbers and links for new events, in order; call inside the
    transaction that inserts them (it takes the chain lock there)."""

    def __init__(self):
        lock_chain()
        self.seq, self.link = chain_head()

    def append(self, fields: tuple) -> tuple[int, bytes]:
        self.seq += 1
        self.link = chain_link(self.link, self.seq, fields)
        return self.seq, self.link
