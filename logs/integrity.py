"""Tamper evidence: every stored event is a link in one hash chain, in insertion order.

Each event carries ``chain_seq`` (1, 2, 3, ... with no gaps, in the order events were stored)
and ``chain_link`` = SHA-256(previous event's link || the event's chain record), the first
event's previous link being 32 zero bytes. The chain record is the UTF-8 JSON array (orjson,
compact) of the sequence number and the stored columns that say what happened:

    [seq, entra_id, "YYYY-MM-DD HH:MM:SS.ffffff" (UTC), service_id, category_id, activity_id,
     operation_type, result, result_reason, correlation_id, initiator_id, initiator_ip_address,
     initiator_user_agent, source_format, original(, normalisation_notes)]

``normalisation_notes`` (what the record held that did not fit the normalised fields, see
logs.ingest.notes) closes the record only when the event has notes: an event without notes has
the same chain record as before notes were kept, so chains written earlier still verify.

``original`` is the record as the source sent it, stored verbatim and never rewritten, so its
stored text *is* the canonical form: hashing it as stored needs no parsing, on import or on
verification. ``additional_details`` is left out because PostgreSQL's jsonb reorders keys; like
the targets and modified properties, it is derived from ``original``, which is covered. So
verification covers these derived rows through the chain without hashing them: it derives them
again from each event's chained ``original`` with the import's own normalisers and compares
them with what is stored (logs.derived_rows), reporting any row changed, added or deleted.

The chain holds the ids of an event's service, category, activity and initiator, not the text
they stand for: that text is covered by the lookup rows' seals (logs.lookup_seals), which
verification checks after the chain, per lookup row.

Links are computed before the rows are inserted (events are never updated), under a lock that
serialises appends: a transaction-level advisory lock on PostgreSQL, the write lock every
SQLite transaction takes at BEGIN IMMEDIATE. So two imports cannot fork the chain.

Retention deletes events legitimately. For each batch it purges (and each month partition it
drops, logs.retention.months) it stores one ``logs.models.ChainCheckpoint`` listing every run
of consecutive positions purged and the link of each run's last event, so the next surviving
event still verifies. Checkpoints form a chain of their own, each link an HMAC keyed by
``SECRET_KEY`` (a checkpoint signed with a key since rotated into ``SECRET_KEY_FALLBACKS``
still verifies): someone who can write to the database but does not know the key cannot make
a deletion look like retention.

The migration that introduced the chain linked the events stored before it, in id order.
"""

import bisect
import hashlib
import hmac
import struct
from dataclasses import dataclass, field

import orjson
from django.conf import settings
from django.db import connection
from django.utils.crypto import salted_hmac

from logs.derived_rows import ChunkEvent, DerivedMismatch, DerivedRowsCheck, utc_text_sql
from logs.hash_chain import (
    CHECKPOINT_TABLE,
    EVENT_TABLE,
    GENESIS,
    chain_head,
)
from logs.lookup_seals import verify_lookups
from logs.originals.codec import UnreadableOriginal
from logs.originals.dictionaries import text_reader

DETAILS_TABLE = "logs_detailslist"
# How many columns of ``_event_rows_sql`` follow the notes.
EXTRA_COLUMNS = 3
USER_AGENT_TABLE = "logs_useragent"
CHECKPOINT_SALT = "auditportal.integrity.ChainCheckpoint"
VERIFY_CHUNK = 10_000
# Where the original is among the chained fields that follow the entra id in a walked row
# (date, service, category, activity, operation type, result, result reason, correlation id,
# initiator, IP address, user agent, source format, original): stored packed, hashed as text.
ORIGINAL = 12


# Checkpoints -------------------------------------------------------------------------------

# A purged range in a checkpoint: first and last position (unsigned 64-bit, big-endian) and the
# last event's link.
RANGE = struct.Struct(">QQ32s")


def pack_ranges(ranges: list[tuple[int, int, bytes]]) -> bytes:
    return b"".join(RANGE.pack(first, last, link) for first, last, link in ranges)


def unpack_ranges(packed: bytes) -> list[tuple[int, int, bytes]]:
    return list(RANGE.iter_unpack(packed))


def checkpoint_link(previous: bytes, packed: bytes, secret: str | None = None) -> bytes:
    """The checkpoint's signature: HMAC-SHA256, keyed by SECRET_KEY, of the previous
    checkpoint's link and the packed ranges."""
    return salted_hmac(
        CHECKPOINT_SALT, previous + packed, secret=secret or settings.SECRET_KEY, algorithm="sha256"
    ).digest()


def checkpoint_link_matches(previous: bytes, packed: bytes, link: bytes) -> bool:
    """Whether ``link`` signs the checkpoint under SECRET_KEY or one of its fallbacks (so a
    key rotation done Django's way does not break verification)."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return any(
        hmac.compare_digest(checkpoint_link(previous, packed, secret), link) for secret in secrets
    )


def purged_ranges(rows: list[tuple[int, bytes]]) -> list[tuple[int, int, bytes]]:
    """``(first_seq, last_seq, link of last)`` for each run of consecutive sequence numbers
    among ``rows`` (``(seq, link)`` pairs of events about to be purged)."""
    ranges = []
    for seq, link in sorted(rows):
        if ranges and ranges[-1][1] == seq - 1:
            ranges[-1] = (ranges[-1][0], seq, link)
        else:
            ranges.append((seq, seq, link))
    return ranges


def record_checkpoint(ranges: list[tuple[int, int, bytes]], run: str) -> None:
    """Store one checkpoint for a batch's purged ranges; call inside the purge's transaction,
    with the chain locked."""
    from logs.models import ChainCheckpoint

    if not ranges:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT link FROM {CHECKPOINT_TABLE} ORDER BY id DESC LIMIT 1")
        row = cursor.fetchone()
    previous = bytes(row[0]) if row else GENESIS
    packed = pack_ranges(ranges)
    last = max(ranges)
    ChainCheckpoint.objects.create(
        run=run,
        events=sum(last_seq - first_seq + 1 for first_seq, last_seq, _ in ranges),
        first_seq=min(ranges)[0],
        last_seq=last[1],
        last_link=last[2],
        ranges=packed,
        link=checkpoint_link(previous, packed),
    )


# Verification ------------------------------------------------------------------------------


@dataclass
class ChainBreak:
    kind: str  # "modified", "missing" or "inserted"
    detail: str
    seq: int | None = None
    event_id: int | None = None
    entra_id: str = ""

    def __str__(self):
        where = []
        if self.seq is not None:
            where.append(f"seq {self.seq}")
        if self.event_id is not None:
            where.append(f"event id {self.event_id}")
        if self.entra_id:
            where.append(f"activity id {self.entra_id}")
        return f"{self.kind}: {', '.join(where) or 'chain'}: {self.detail}"


@dataclass
class Verification:
    events: int = 0
    purged: int = 0
    lookups: int = 0  # lookup rows whose text matched their seal
    head_seq: int = 0
    head_link: bytes = GENESIS
    broken: ChainBreak | None = None
    # Targets and modified properties compared with what the originals give, and the
    # differences found (logs.derived_rows), in the events walked before any break.
    targets: int = 0
    properties: int = 0
    derived: list[DerivedMismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.broken is None and not self.derived


class PurgedRanges:
    """The checkpointed ranges, for "is this seq purged?" and "is this gap all purged?"."""

    def __init__(self, ranges: list[tuple[int, int, bytes]]):
        self.ranges = sorted(ranges)
        self.starts = [first for first, _, _ in self.ranges]
        self.link_at_end = {last: link for _, last, link in self.ranges}

    def containing(self, seq: int):
        index = bisect.bisect_right(self.starts, seq) - 1
        if index >= 0 and self.ranges[index][1] >= seq:
            return index
        return None

    def covers(self, first: int, last: int) -> bool:
        """Whether every seq in first..last lies in some purged range."""
        index = self.containing(first)
        if index is None:
            return False
        reach = self.ranges[index][1]
        while reach < last:
            index += 1
            if index >= len(self.ranges) or self.ranges[index][0] > reach + 1:
                return False
            reach = max(reach, self.ranges[index][1])
        return True

    def uncovered(self, first: int, last: int) -> list[tuple[int, int]]:
        """The runs of positions in first..last that lie in no purged range: what a break
        names as deleted outside retention."""
        runs, position = [], first
        for start, end, _ in self.ranges:
            if start > last:
                break
            if start > position:
                runs.append((position, start - 1))
            position = max(position, end + 1)
        if position <= last:
            runs.append((position, last))
        return runs

    def total(self) -> int:
        covered, reach = 0, 0
        for first, last, _ in self.ranges:
            start = max(first, reach + 1)
            if last >= start:
                covered += last - start + 1
                reach = last
        return covered


def _load_checkpoints() -> tuple[PurgedRanges, ChainBreak | None]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, run, ranges, link FROM {CHECKPOINT_TABLE} ORDER BY id")
        rows = cursor.fetchall()
    previous = GENESIS
    ranges = []
    for pk, run, packed, link in rows:
        packed, link = bytes(packed), bytes(link)
        if not checkpoint_link_matches(previous, packed, link):
            return PurgedRanges(ranges), ChainBreak(
                "modified",
                f"retention checkpoint {pk} ({run}) does not match its signature: a checkpoint "
                "was changed, inserted or removed outside retention",
            )
        ranges.extend(unpack_ranges(packed))
        previous = link
    return PurgedRanges(ranges), None


def _event_rows_sql() -> str:
    """The chained columns in chain order, the notes, then what the chain does not cover but
    the walk checks (``EXTRA_COLUMNS``): the details list (for the check of the derived rows,
    logs.derived_rows) and the keys of the user agent and the details list (for the check
    that each refers to a stored row, ``StoredLookups``)."""
    return (
        f"SELECT chain_seq, id, chain_link, entra_id, {utc_text_sql('activity_datetime')}, "
        "service_id, category_id, activity_id, operation_type, result, result_reason, "
        "correlation_id, initiator_id, initiator_ip_address, "
        # The user agent's text, as the chain record holds it (a lookup row, or none: "").
        f"coalesce((SELECT text FROM {USER_AGENT_TABLE} WHERE id = user_agent_id), ''), "
        "source_format, original, normalisation_notes, "
        # The event's details list (a lookup row, or none: an empty list).
        f"coalesce((SELECT entries FROM {DETAILS_TABLE} WHERE id = details_list_id), '[]'), "
        "user_agent_id, details_list_id "
        f"FROM {EVENT_TABLE} WHERE chain_seq > %s ORDER BY chain_seq LIMIT %s"
    )


def verify_chain(*, chunk_size: int = VERIFY_CHUNK, on_progress=None) -> Verification:
    """Walk the chain in sequence order; stop at the first break.

    Only the chained columns are read, ``chunk_size`` events at a time in position order, after
    the checkpoints (whose own chain is checked first). The first break is reported as one of:

    - *modified*: an event no longer matches its link, or a checkpoint its signature;
    - *missing*: positions gone that no checkpoint covers;
    - *inserted*: an event with no position, in a purged position or out of insertion order,
      or a target, modified property or annotation whose parent is not stored (the database
      does not check those references, since only the loader writes them, with their event,
      and only retention deletes them, first).

    Each chunk's events that verified then have their targets, modified properties and
    ``additional_details`` compared with what their originals give (logs.derived_rows); every
    difference found is collected in ``derived`` (the walk goes on), and makes the result not
    ``ok``.
    """
    result = Verification()
    purged, broken = _load_checkpoints()
    if broken:
        result.broken = broken
        return result
    unchained = _first_unchained_event()
    if unchained:
        result.broken = ChainBreak(
            "inserted",
            "the event has no place in the chain: it was not stored by auditportal",
            event_id=unchained[0],
            entra_id=unchained[1],
        )
        return result
    sql = _event_rows_sql()
    expected, previous, previous_id = 1, GENESIS, 0
    sha256, dumps = hashlib.sha256, orjson.dumps
    original_text = text_reader(connection)
    lookups = StoredLookups()
    derived = DerivedRowsCheck()
    chunk = []  # the events of the chunk being walked that verified

    def check_derived_rows() -> None:
        derived.check_chunk(chunk)
        result.targets, result.properties = derived.targets, derived.properties
        result.derived = derived.mismatches

    def stop(broken: ChainBreak) -> Verification:
        """The result at a break, once the rows of the events before it are checked too."""
        result.broken = broken
        check_derived_rows()
        return result

    while True:
        with connection.cursor() as cursor:
            cursor.execute(sql, [expected - 1, chunk_size])
            rows = cursor.fetchall()
        if not rows:
            break
        chunk = []
        for seq, pk, link, entra_id, *fields, notes, details, agent_id, details_id in rows:
            if notes:
                fields.append(notes)
            # Before the gap is looked at: a purged position held by an event is an insertion,
            # whatever position came before it.
            if purged.containing(seq) is not None:
                return stop(
                    ChainBreak(
                        "inserted",
                        "retention purged this position, yet an event holds it",
                        seq,
                        pk,
                        entra_id,
                    )
                )
            if seq != expected:
                if not purged.covers(expected, seq - 1):
                    # A purge may have finished since the checkpoints were read.
                    purged, broken = _load_checkpoints()
                    if broken or not purged.covers(expected, seq - 1):
                        return stop(broken or _missing(purged, expected, seq, pk, entra_id))
                previous = purged.link_at_end.get(seq - 1)
                if previous is None:
                    return stop(_missing(purged, expected, seq, pk, entra_id))
            if pk <= previous_id:
                return stop(
                    ChainBreak(
                        "inserted",
                        f"stored out of insertion order (its id is below event {previous_id}'s)",
                        seq,
                        pk,
                        entra_id,
                    )
                )
            gone = lookups.first_missing(
                (fields[1], fields[2], fields[3], fields[8], agent_id, details_id)
            )
            if gone:
                return stop(
                    ChainBreak(
                        "missing",
                        f"the event shows {gone[0]} {gone[1]}, which is not stored: it was deleted "
                        "outside retention",
                        seq,
                        pk,
                        entra_id,
                    )
                )
            try:
                fields[ORIGINAL] = original_text(fields[ORIGINAL])
            except UnreadableOriginal as error:
                return stop(
                    ChainBreak(
                        "modified",
                        f"the stored original record cannot be read back: {error}",
                        seq,
                        pk,
                        entra_id,
                    )
                )
            link = bytes(link)
            if sha256(previous + dumps((seq, entra_id, *fields))).digest() != link:
                return stop(
                    ChainBreak(
                        "modified",
                        "the stored event no longer matches its link: a field or the original "
                        "record was changed",
                        seq,
                        pk,
                        entra_id,
                    )
                )
            previous, previous_id, expected = link, pk, seq + 1
            result.events += 1
            # fields: date, service, category, activity, operation type, result, result reason,
            # correlation id, initiator, IP address, user agent, source format, original.
            chunk.append(
                ChunkEvent(pk, fields[0], fields[1], fields[3], fields[5], *fields[11:13], details)
            )
        # What was derived from the originals of the chunk's events is checked against them:
        # differences are collected, and the walk goes on.
        check_derived_rows()
        if on_progress:
            on_progress(result.events)
    result.purged = purged.total()
    head_seq, head_link = chain_head()
    if head_seq >= expected and not purged.covers(expected, head_seq):
        result.broken = _missing(purged, expected, None, None, "", last=head_seq)
        return result
    result.broken = _first_orphan()
    if result.broken:
        return result
    result.lookups, relabelled = verify_lookups(connection)
    if relabelled:
        result.broken = ChainBreak(
            relabelled.kind,
            relabelled.detail,
            event_id=relabelled.event_ids[0] if relabelled.event_ids else None,
        )
        return result
    result.head_seq, result.head_link = head_seq, head_link
    return result


class StoredLookups:
    """The ids of the stored lookups an event refers to, for "does this event's activity (and
    service, category, initiator, user agent, details list) still exist?" while walking the
    chain: the database does not check those references (migrations 0006, 0031, 0032); a
    user agent or a list gone would show as none. The walk already reads the ids, so the check costs
    a set lookup each. A lookup stored since the ids were read (an import running meanwhile)
    is found by reading them again."""

    # (what the report calls it, its table), in the order ``first_missing`` is given the ids.
    REFERENCES = (
        ("service", "logs_service"),
        ("category", "logs_category"),
        ("activity", "logs_activity"),
        ("initiator", "logs_initiator"),
        ("user agent", USER_AGENT_TABLE),
        ("additional details list", DETAILS_TABLE),
    )

    def __init__(self):
        self.ids = {table: self._read(table) for _, table in self.REFERENCES}

    @staticmethod
    def _read(table: str) -> set[int]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {table}")
            return {row[0] for row in cursor.fetchall()}

    def first_missing(self, ids) -> tuple[str, int] | None:
        """The first of ``ids`` (in ``REFERENCES`` order, None for none) not stored, named."""
        for (name, table), pk in zip(self.REFERENCES, ids, strict=True):
            if pk is not None and pk not in self.ids[table]:
                self.ids[table] = self._read(table)
                if pk not in self.ids[table]:
                    return name, pk
        return None


def _first_orphan() -> ChainBreak | None:
    """A target or annotation whose event, or a modified property whose target, is not stored.

    The database does not check these references (migrations 0012, 0014): auditportal writes them
    only with their parent and deletes them first. A row left without its parent was written
    or kept around auditportal. Checked after the chain, which names a deleted event better.
    """
    checks = [
        (
            "logs_target",
            "event_id",
            EVENT_TABLE,
            "a target refers to event {}, which is not stored",
        ),
        (
            "logs_modifiedproperty",
            "target_id",
            "logs_target",
            "a modified property refers to target {}, which is not stored",
        ),
        (
            "logs_annotation",
            "event_id",
            EVENT_TABLE,
            "an annotation refers to event {}, which is not stored",
        ),
    ]
    for table, reference, parent, detail in checks:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT child.{reference} FROM {table} AS child WHERE NOT EXISTS "
                f"(SELECT 1 FROM {parent} AS parent WHERE parent.id = child.{reference}) "
                "LIMIT 1"
            )
            row = cursor.fetchone()
        if row:
            event_id = row[0] if parent == EVENT_TABLE else None
            return ChainBreak("inserted", detail.format(row[0]), event_id=event_id)
    return None


def _missing(
    purged: PurgedRanges,
    first: int,
    seq: int | None,
    pk: int | None,
    entra_id: str,
    last: int | None = None,
) -> ChainBreak:
    """The break for positions first..last (up to ``seq``, the next stored event, or the
    chain's head) that no stored event holds: it names those retention did not purge."""
    last = seq - 1 if last is None else last
    runs = purged.uncovered(first, last) or [(first, last)]
    span = ", ".join(f"seq {a}" if a == b else f"seq {a}..{b}" for a, b in runs)
    if seq is None:
        return ChainBreak(
            "missing",
            f"the events at {span}, after the last one stored, were deleted outside retention",
            runs[0][0],
        )
    return ChainBreak(
        "missing",
        f"the events at {span}, just before this one, were deleted outside retention",
        seq,
        pk,
        entra_id,
    )


def _first_unchained_event():
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, entra_id FROM {EVENT_TABLE} WHERE chain_seq IS NULL OR chain_link IS NULL "
            "ORDER BY id LIMIT 1"
        )
        return cursor.fetchone()
