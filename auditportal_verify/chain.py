"""The hash chain as the portal builds it, checked position by position against digests.

Each event's link is SHA-256(previous link || chain record), the first event's previous link
being 32 zero bytes. The chain record is the compact JSON array (UTF-8, no ASCII escaping) of
the position and the fields in ``CHAIN_FIELDS``, in that order, closed by ``NOTES_FIELD`` (the
event's normalisation notes) only when the event has notes. Retention deletes events
legitimately; the digests list each purged range with the link of its last position, from
which the next surviving event's link continues.
"""

import bisect
import hashlib
import json
from dataclasses import dataclass, field

from auditportal_verify.digests import Digest, Finding

GENESIS = bytes(32)
CHAIN_FIELDS = (
    "entra_id",
    "activity_datetime",
    "service_id",
    "category_id",
    "activity_id",
    "operation_type",
    "result",
    "result_reason",
    "correlation_id",
    "initiator_id",
    "initiator_ip_address",
    "initiator_user_agent",
    "source_format",
    "original",
)
NOTES_FIELD = "normalisation_notes"


def hashed_fields(fields, notes: str) -> tuple:
    """The fields a link covers: ``CHAIN_FIELDS``' values, then the notes if there are any
    (so that events stored before notes existed keep their links)."""
    return (*fields, notes) if notes else tuple(fields)


def chain_record(seq: int, fields) -> bytes:
    return json.dumps([seq, *fields], ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def chain_link(previous: bytes, seq: int, fields) -> bytes:
    return hashlib.sha256(previous + chain_record(seq, fields)).digest()


class Purged:
    """The positions retention purged, as signed digests list them."""

    def __init__(self, ranges: list[tuple[int, int, bytes]]):
        self.ranges = sorted(ranges)
        self.starts = [first for first, _, _ in self.ranges]
        self.link_at_end = {last: link for _, last, link in self.ranges}

    def contains(self, seq: int) -> bool:
        index = bisect.bisect_right(self.starts, seq) - 1
        return index >= 0 and self.ranges[index][1] >= seq

    def covers(self, first: int, last: int) -> bool:
        seq = first
        while seq <= last:
            index = bisect.bisect_right(self.starts, seq) - 1
            if index < 0 or self.ranges[index][1] < seq:
                return False
            seq = self.ranges[index][1] + 1
        return True

    def highest(self) -> int:
        return max((last for _, last, _ in self.ranges), default=0)


def _positions(first: int, last: int) -> str:
    return f"position {first}" if first == last else f"positions {first}..{last}"


def _ids(first_id, last_id, count: int) -> str:
    if first_id is None:
        return "no stored event"
    if count == 1:
        return f"event id {first_id}"
    return f"event ids {first_id}..{last_id} ({count} events)"


@dataclass
class ChainCheck:
    """Feed the stored (or exported) events in position order, then call ``finish``.

    ``fields`` may be None when the links were already recomputed elsewhere (the portal's
    verify_chain): only the positions and the digests' links are checked then.
    """

    digests: list[Digest]
    findings: list[Finding] = field(default_factory=list)
    events: int = 0
    gaps: int = 0

    def __post_init__(self):
        self.purged = Purged([r for digest in self.digests for r in digest.ranges()])
        self.ends = {digest.last_seq: digest for digest in self.digests}
        self.expected = 1
        self.previous: bytes | None = GENESIS
        self.last_id = None
        # The events since the last digest's end, for naming a rewritten stretch.
        self.window_first_id = None
        self.window_count = 0
        self.window_start = 1
        self.mismatched: list[tuple[Digest, int, object, object, int]] = []

    def feed(self, seq: int, event_id, link: bytes, fields=None) -> None:
        if seq < self.expected:
            self.findings.append(
                Finding(
                    "order",
                    f"position {seq} ({_ids(event_id, event_id, 1)}) comes again or out of order",
                )
            )
            return
        if seq > self.expected:
            self._gap(self.expected, seq - 1, event_id)
        if self.purged.contains(seq):
            self.findings.append(
                Finding(
                    "inserted",
                    f"position {seq} ({_ids(event_id, event_id, 1)}) was purged by retention, "
                    "yet an event holds it",
                )
            )
        recomputable = fields is not None and self.previous is not None
        if recomputable and chain_link(self.previous, seq, fields) != link:
            self.findings.append(
                Finding(
                    "modified",
                    f"position {seq} ({_ids(event_id, event_id, 1)}) no longer matches its "
                    "link: a field or the original record was changed",
                )
            )
        if self.window_first_id is None:
            self.window_first_id = event_id
        self.window_count += 1
        self.events += 1
        self.previous, self.last_id, self.expected = link, event_id, seq + 1
        digest = self.ends.get(seq)
        if digest is not None:
            self._end_of(digest, link, event_id)

    def _gap(self, first: int, last: int, next_id) -> None:
        """Positions first..last hold no event: purged, or deleted."""
        if self.purged.covers(first, last) and last in self.purged.link_at_end:
            self.previous = self.purged.link_at_end[last]
            for digest in self.digests:
                if first <= digest.last_seq <= last:
                    self._end_of(digest, self.purged.link_at_end.get(digest.last_seq), None)
            return
        self.gaps += 1
        after = f"after {_ids(self.last_id, self.last_id, 1)}, " if self.last_id else ""
        self.findings.append(
            Finding(
                "missing",
                f"{_positions(first, last)} ({after}before {_ids(next_id, next_id, 1)}) "
                "hold no event and were not purged by retention: deleted",
            )
        )
        self.previous = None  # the next link cannot be recomputed: start again from it

    def _end_of(self, digest: Digest, link: bytes | None, event_id) -> None:
        if link is not None and link != digest.last_link:
            self.mismatched.append(
                (digest, self.window_start, self.window_first_id, event_id, self.window_count)
            )
        self.window_start = digest.last_seq + 1
        self.window_first_id = None
        self.window_count = 0

    def finish(self) -> list[Finding]:
        if self.mismatched:
            digest, start, first_id, last_id, count = self.mismatched[0]
            later = len(self.mismatched) - 1
            tail = (
                f"; the {later} later digest(s) do not match either: the chain was re-linked "
                "from there on"
                if later
                else ""
            )
            self.findings.append(
                Finding(
                    "rewritten",
                    f"{_positions(start, digest.last_seq)} ({_ids(first_id, last_id, count)}) "
                    f"no longer end in the link signed by {digest.label()}: an event in this "
                    f"stretch was changed or replaced and the chain re-linked{tail}",
                )
            )
        stored_end = self.expected - 1
        newest = self.digests[-1] if self.digests else None
        if newest is not None and newest.last_seq > stored_end:
            first, last = stored_end + 1, newest.last_seq
            if not self.purged.covers(first, last):
                self.gaps += 1
                after = f" (after {_ids(self.last_id, self.last_id, 1)})" if self.last_id else ""
                self.findings.append(
                    Finding(
                        "missing",
                        f"the newest events, {_positions(first, last)}{after}, which "
                        f"{newest.label()} covers, are gone",
                    )
                )
        signed_end = newest.last_seq if newest else 0
        if stored_end > signed_end and self.window_count:
            self.findings.append(
                Finding(
                    "unsigned",
                    f"{_positions(max(signed_end + 1, self.window_start), stored_end)} "
                    f"({_ids(self.window_first_id, self.last_id, self.window_count)}) are "
                    "covered by no signed digest",
                )
            )
        return self.findings

    @property
    def highest(self) -> int:
        return max(self.expected - 1, self.purged.highest())
