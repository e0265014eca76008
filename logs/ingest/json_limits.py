"""Bounds on JSON input, enforced while it is read: nesting depth, string and record size,
number range.

Every parse of JSON that arrives from outside (files, request bodies, JSON nested in a CSV
cell) goes through here, because the parsers alone are not safe against hostile input:
ijson's prefix bookkeeping costs time in the square of the nesting depth (100,000 levels take
minutes), the standard library raises RecursionError on deep nesting and ValueError on
integers past 4,300 digits, and ijson's C backend crashes the process on those integers unless
it reads numbers as floats. The limits are therefore checked on the bytes before a parser sees
them, a chunk at a time and in C-speed operations (see ``_Scanner``), and numbers are read the
way ijson's C backend reads them with ``use_float``: integers within 64 bits, other numbers as
IEEE 754 doubles. A number outside that range is refused, never rounded to something else.

The limits are far beyond anything Entra writes (its records nest about 8 levels deep), so
they refuse only input that is broken or hostile.
"""

import json
import math
import re
from itertools import accumulate

import ijson

# Levels of nested objects and lists, counted from the top of the document (a Graph page puts
# its records at level 3).
MAX_DEPTH = 64
# No stored text takes more than a million characters (values.MAX_TEXT_CHARS), and a
# character takes at most 12 bytes of JSON (a surrogate pair written as two \u escapes): a
# string longer than this cannot be stored, and is refused before it is held in memory.
MAX_STRING_BYTES = 16 * 1024 * 1024
# One record's JSON text. Real records take a few kilobytes, a large policy document a few
# megabytes; beyond this a record would only exhaust memory (a compressed file can unpack to
# far more than its size suggests).
MAX_RECORD_BYTES = 64 * 1024 * 1024
# ijson's C backend reads integers into 64 bits; the standard library is held to the same.
MIN_INTEGER = -(2**63)
MAX_INTEGER = 2**63 - 1

DEPTH_MESSAGE = f"nests objects and lists deeper than {MAX_DEPTH} levels"
STRING_MESSAGE = f"holds a string longer than {MAX_STRING_BYTES // (1024 * 1024)} MiB"
RECORD_MESSAGE = f"holds a record larger than {MAX_RECORD_BYTES // (1024 * 1024)} MiB"
NUMBER_MESSAGE = (
    "holds a number that cannot be kept exactly: integers must lie within "
    f"{MIN_INTEGER:,} and {MAX_INTEGER:,}, other numbers within the double-precision range "
    "(about 1.8e308)"
)


class JsonLimitError(ValueError):
    """The input breaks one of the limits; ``offset`` is where, in bytes of UTF-8 JSON."""

    def __init__(self, message: str, offset: int):
        self.message = message
        self.offset = offset
        super().__init__(message)


def describe_json_error(error: Exception) -> str:
    """A one-line reason for a parser's error, with the number limits said in plain words."""
    text = str(error).strip()
    first_line = text.splitlines()[0] if text else type(error).__name__
    if "overflow" in first_line:
        return NUMBER_MESSAGE
    return first_line[:200]


# Scanning ---------------------------------------------------------------------------------

_QUOTE, _BACKSLASH = ord('"'), ord("\\")
_OPENERS, _CLOSERS = frozenset(b"[{"), frozenset(b"]}")
# Everything but quotes and brackets, deleted from a chunk before its structure is read.
_NOT_STRUCTURE = bytes(byte for byte in range(256) if byte not in b'"[]{}')
# Brackets as signed bytes: +1 opens a level, -1 (0xff) closes one.
_LEVEL_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_WHOLE_STRING = re.compile(rb'"[^"]*"')
# Escaped backslashes and quotes, matched left to right as a parser reads escapes (a regular
# expression removes them several times faster than bytes.replace when they are many, as in
# the JSON inside strings that Entra writes in modified properties).
_ESCAPED_QUOTE_OR_BACKSLASH = re.compile(rb'\\[\\"]')
# A \u escape of half a UTF-16 surrogate pair; and one without its other half. ijson's C
# backend would turn a lone high half into "?", or join it with whatever escape follows into
# another character, and fail on a lone low half: the text would be silently changed.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)
_HIGH_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}")
# Escaped backslashes, replaced by two bytes that are not, so that offsets hold and what
# follows one is not read as an escape.
_ESCAPED_BACKSLASH, _NOT_AN_ESCAPE = b"\\\\", b"__"
# The longest escape sequence that must be seen whole: a surrogate pair, \uXXXX\uXXXX.
_LONGEST_ESCAPE = 12

SURROGATE_MESSAGE = "holds a lone surrogate (half of a UTF-16 pair), which is not Unicode text"


class _Scanner:
    """Follows the nesting of UTF-8 JSON fed to it in chunks, with strings skipped.

    The common path reads a chunk with a few passes of C code: escaped backslashes and quotes
    are removed (so every remaining quote opens or closes a string), everything but quotes and
    brackets is deleted (UTF-8 never uses those bytes inside a multi-byte character), empty
    pairs of quotes go (they change no bracket's side of a string), whole strings go, and the
    brackets left are summed into levels. Only when a chunk goes too deep is it walked byte by
    byte, to say exactly where.

    Chunks must not end inside an escape sequence (GuardedReader holds such an end back).
    ``record_depth`` is the level at which records sit (2 for ``{"value": [...]}``): while
    the nesting stays above it, one record is being read, and its size is bounded.
    """

    def __init__(self, record_depth: int = 0):
        self.record_depth = record_depth
        self.depth = 0
        self.in_string = False
        self.string_bytes = 0
        self.record_bytes = 0
        self.position = 0  # bytes scanned before this chunk

    def feed(self, data: bytes) -> tuple[int, str] | None:
        """Scan ``data``: the offset in it, and the reason, of the first byte that breaks a
        limit, or None. A string or record too large is reported at the chunk's start (a size
        needs no more precision); depth and lone surrogates exactly."""
        start = (self.depth, self.in_string)
        text = data
        lone = None
        if b"\\" in text:
            if _SURROGATE_ESCAPE.search(text):
                lone = _LONE_SURROGATE.search(text.replace(_ESCAPED_BACKSLASH, _NOT_AN_ESCAPE))
            text = _ESCAPED_QUOTE_OR_BACKSLASH.sub(b"", text)
        structure = text.translate(None, _NOT_STRUCTURE)
        if self.in_string:
            self.string_bytes += len(data)
            if self.string_bytes > MAX_STRING_BYTES:
                return 0, STRING_MESSAGE
            end = structure.find(b'"')
            if end < 0:  # the whole chunk is inside one string
                if lone is not None:
                    return lone.start(), SURROGATE_MESSAGE
                return self._count_record(data, self.depth)
            self.in_string = False
            structure = structure[end + 1 :]
        structure = _WHOLE_STRING.sub(b"", structure.replace(b'""', b""))
        opened = structure.find(b'"')
        if opened >= 0:  # a string runs on into the next chunk
            self.in_string = True
            self.string_bytes = 0
            structure = structure[:opened]
        steps = memoryview(structure.translate(_LEVEL_STEPS)).cast("b")
        levels = list(accumulate(steps, initial=self.depth))
        self.depth = levels[-1]
        # The first break in the chunk is reported: the parser must see nothing past it.
        if max(levels) > MAX_DEPTH:
            too_deep = _first_too_deep(data, *start)
            if lone is None or too_deep < lone.start():
                return too_deep, DEPTH_MESSAGE
        if lone is not None:
            return lone.start(), SURROGATE_MESSAGE
        return self._count_record(data, min(levels))

    def _count_record(self, data: bytes, lowest: int) -> tuple[int, str] | None:
        if lowest <= self.record_depth:
            self.record_bytes = 0  # a record ended or began in this chunk
        else:
            self.record_bytes += len(data)
            if self.record_bytes > MAX_RECORD_BYTES:
                return 0, RECORD_MESSAGE
        self.position += len(data)
        return None


def _first_too_deep(data: bytes, depth: int, in_string: bool) -> int:
    """The offset of the bracket that opens level MAX_DEPTH + 1, walking byte by byte."""
    escaped = False
    for offset, byte in enumerate(data):
        if escaped:
            escaped = False
        elif in_string:
            if byte == _BACKSLASH:
                escaped = True
            elif byte == _QUOTE:
                in_string = False
        elif byte == _QUOTE:
            in_string = True
        elif byte in _OPENERS:
            depth += 1
            if depth > MAX_DEPTH:
                return offset
        elif byte in _CLOSERS:
            depth -= 1
    raise AssertionError("the fast scan and the walk disagree on the depth")  # pragma: no cover


class GuardedReader:
    """A binary stream that hands a JSON parser only what is within the limits.

    Where a chunk breaks a limit, the parser gets the chunk up to that point (so it yields
    every record that ended before it) and the next read raises JsonLimitError. A chunk's last
    bytes are held back for the next read when an escape sequence may be cut there.
    ``record_depth`` is as for ``_Scanner``.
    """

    def __init__(self, stream, record_depth: int = 0):
        self._stream = stream
        self._scanner = _Scanner(record_depth)
        self._held = b""
        self._error: JsonLimitError | None = None

    def read(self, size: int = -1) -> bytes:
        if self._error is not None:
            raise self._error
        if size == 0:
            return b""  # ijson asks for nothing first, to learn whether the stream is binary
        data = self._held
        while True:
            more = self._stream.read(size)
            data += more
            if not more:
                self._held = b""
                break
            cut = data.find(b"\\", max(len(data) - _LONGEST_ESCAPE, 0))
            if cut < 0:
                self._held = b""
                break
            if _HIGH_SURROGATE_ESCAPE.fullmatch(data, max(cut - 6, 0), cut):
                cut -= 6  # nor between the halves of a surrogate pair
            while cut and data[cut - 1] == _BACKSLASH:
                cut -= 1  # never between the two halves of an escaped backslash
            data, self._held = data[:cut], data[cut:]
            if data:
                break
            data = self._held
        position = self._scanner.position
        broken = self._scanner.feed(data)
        if broken is not None:
            offset, message = broken
            self._error = JsonLimitError(message, position + offset)
            if not offset:
                raise self._error
            data = data[:offset]
        return data


def record_depth(prefix: str) -> int:
    """The level at which ijson's ``prefix`` ("value.item", "item", "") finds its items."""
    return len(prefix.split(".")) if prefix else 0


def check_nesting(text: str | bytes) -> None:
    """Raise JsonLimitError if a whole JSON text held in memory breaks a limit."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    broken = _Scanner().feed(data)
    if broken is not None:
        offset, message = broken
        raise JsonLimitError(message, offset)


# Numbers for the standard library's parser --------------------------------------------------


def _integer(text: str) -> int:
    # Twenty characters hold every 64-bit integer; anything longer is refused before the
    # conversion, whose cost grows with the square of the length.
    if len(text) <= 20:
        value = int(text)
        if MIN_INTEGER <= value <= MAX_INTEGER:
            return value
    raise JsonLimitError(NUMBER_MESSAGE, -1)


def _decimal(text: str) -> float:
    value = float(text)
    if math.isfinite(value):
        return value
    raise JsonLimitError(NUMBER_MESSAGE, -1)


def _not_json(text: str):
    raise JsonLimitError(f"holds {text}, which is not a JSON value", -1)


def loads(text: str):
    """``json.loads`` within the limits, numbers read as ijson reads them.

    Raises json.JSONDecodeError for text that is not JSON, JsonLimitError for JSON beyond the
    limits (NaN and Infinity, which Python's parser would take, are not JSON).
    """
    check_nesting(text)
    return json.loads(text, parse_int=_integer, parse_float=_decimal, parse_constant=_not_json)


def _ignore(_text: str) -> None:
    return None


def raw_decode_shape(text: str):
    """The first JSON value of ``text`` and where it ends, with numbers left unread: for
    telling formats apart, where only the keys matter. Raises ValueError when there is none."""
    check_nesting(text)
    decoder = json.JSONDecoder(parse_int=_ignore, parse_float=_ignore, parse_constant=_ignore)
    return decoder.raw_decode(text)


# Locating an error --------------------------------------------------------------------------

_VALUE_EVENTS = frozenset(("start_map", "start_array", "string", "number", "boolean", "null"))
# A field's path in a message: enough to find it, not the whole of a too-deep one.
_MAX_PATH_CHARS = 120


def locate(stream, prefix: str, stop: int | None = None, unit: str = "record") -> tuple[str, str]:
    """Where parsing ``stream`` fails, as (location, field): ("record 8",
    "targetResources[0].modifiedProperties[2].newValue"), or ("after record 8", the path from
    the top of the document) when the failure lies between records.

    Used only once an error is known, to name its place: it re-reads the stream event by event
    (within the limits), up to ``stop`` bytes if given (where a limit was broken), else up to
    the parser's own error. ``prefix`` is ijson's prefix of the records.
    """
    path: list = []  # keys and list positions, from the top of the document
    records = 0
    record_level = None  # len(path) where the record being read starts, if one is
    reader = GuardedReader(_Truncated(stream, stop) if stop is not None else stream)
    try:
        for event_prefix, event, value in ijson.parse(reader, use_float=True):
            if event in _VALUE_EVENTS and path and isinstance(path[-1], int):
                path[-1] += 1
            at_record = event_prefix == prefix
            if event == "map_key":
                path[-1] = value
            elif event in ("start_map", "start_array"):
                if at_record:
                    records += 1
                    record_level = len(path)
                path.append(None if event == "start_map" else -1)
            elif event in ("end_map", "end_array"):
                path.pop()
                if at_record:
                    record_level = None
            elif at_record and event in _VALUE_EVENTS:
                records += 1
    except (ijson.JSONError, JsonLimitError):
        if path and isinstance(path[-1], int):
            path[-1] += 1  # the failing value comes after the last one read
    if record_level is not None:
        return f"{unit} {records}", format_path(path[record_level:])
    where = f"after {unit} {records}" if records else f"before the first {unit}"
    return where, format_path(path)


def format_path(parts) -> str:
    """``["targetResources", 0, "type"]`` as ``targetResources[0].type``.

    A key is the sender's text: one with characters that cannot be shown or stored (NUL,
    other controls, half a surrogate pair) is written with them escaped, as Python would.
    """
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{max(part, 0)}]"
        elif part is not None:
            key = part if part.isprintable() else repr(part)[1:-1]
            text += f".{key}" if text else key
        if len(text) > _MAX_PATH_CHARS:
            return text[:_MAX_PATH_CHARS] + "…"
    return text


class _Truncated:
    """The first ``limit`` bytes of a stream."""

    def __init__(self, stream, limit: int):
        self._stream = stream
        self._left = limit

    def read(self, size: int = -1) -> bytes:
        if size == 0 or self._left <= 0:
            return b""
        size = self._left if size is None or size < 0 else min(size, self._left)
        data = self._stream.read(size)
        self._left -= len(data)
        return data
