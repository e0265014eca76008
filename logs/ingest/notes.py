"""Normalisation notes: what a stored record held that did not fit the normalised fields.

A record with an identity and an activity date is always stored verbatim (its ``original``).
Whatever else does not fit is normalised where the meaning is certain, and otherwise stored as
empty/unknown with a note saying what was odd, in which field (as the source spells it) and the
raw value. Notes are written when the event is stored, are part of its hash-chain record, and
are never changed.

In strict mode (``import_audit_logs --strict``) a note is an error instead: the record is
refused with the located error it always had.
"""

import contextlib
import json
from contextvars import ContextVar

from logs.ingest.errors import FieldError

# A note quotes the raw value, up to this many characters (the original keeps all of it).
RAW_CHARS = 200

_strict: ContextVar[bool] = ContextVar("auditportal_strict_import", default=False)


def is_strict() -> bool:
    return _strict.get()


@contextlib.contextmanager
def strictness(strict: bool):
    """Normalise records strictly (refuse what needs a note) within the block."""
    token = _strict.set(strict)
    try:
        yield
    finally:
        _strict.reset(token)


def raw_text(value) -> str:
    """The raw value as the note quotes it: JSON text, cut to RAW_CHARS."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= RAW_CHARS else text[:RAW_CHARS] + "…"


class Notes:
    """The notes of one record being normalised."""

    __slots__ = ("items", "strict")

    def __init__(self, strict: bool | None = None):
        self.strict = is_strict() if strict is None else strict
        self.items: list[dict] = []

    def add(self, field: str, note: str, raw, *, refused_when_strict: bool = True) -> None:
        """Record a note; in strict mode, refuse the record instead (unless the deviation is one
        strict mode has always accepted, such as a date without an offset)."""
        if self.strict and refused_when_strict:
            # A note says what was wrong, then ("; ...") what was stored instead: strict mode
            # refuses with what was wrong, as it always has.
            raise FieldError(field or "record", note.rsplit("; ", 1)[0])
        self.items.append({"field": field or "record", "note": note, "raw": raw_text(raw)})


def notes_text(notes: list[dict]) -> str:
    """The notes as stored on the event: compact JSON, or "" for none (the common case)."""
    if not notes:
        return ""
    return json.dumps(notes, ensure_ascii=False, separators=(",", ":"))
