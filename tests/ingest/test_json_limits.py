"""The limits on JSON input (logs/ingest/json_limits.py), checked on the bytes before a parser
sees them.

The scan is fast because it reads a chunk in a few passes of C code instead of byte by byte;
the property below holds it to a plain byte-by-byte walk on generated JSON cut into chunks
anywhere, escapes and surrogate pairs included. The size bounds are met here with the bounds
made small, and once for real with a compressed file that unpacks to more than a string may
hold.
"""

import gzip
import io
import json

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from logs.ingest import csv_rows, json_limits, json_stream
from logs.ingest.importer import import_file
from logs.ingest.json_limits import GuardedReader, JsonLimitError
from logs.models import AuditEvent
from tests.factories import GraphDirectoryAuditFactory

# Characters that make scanning hard: quotes, backslashes and brackets inside strings,
# escapes, non-ASCII, and both halves of surrogate pairs (alone, paired, or reversed).
TRICKY = st.sampled_from(
    ['"', "\\", "[", "]", "{", "}", "\n", "é", "😀", "\ud800", "\udc00", "a", "\\u", "ud800"]
)
tricky_text = st.lists(TRICKY, max_size=6).map("".join)
values = st.recursive(
    st.one_of(tricky_text, st.integers(-5, 5), st.none()),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(tricky_text, children, max_size=3),
    ),
    max_leaves=40,
)


def nest(value, depth: int):
    for level in range(depth):
        value = [value] if level % 2 else {"[\\": value}
    return value


def walk(data: bytes) -> str | None:
    """What breaks a limit first, byte by byte: "depth" or "surrogate" (or None)."""
    depth, in_string, offset = 0, False, 0
    while offset < len(data):
        byte = data[offset]
        if in_string and byte == ord("\\"):
            if data[offset + 1 : offset + 2] != b"u":
                offset += 2
                continue
            code = int(data[offset + 2 : offset + 6], 16)
            if 0xDC00 <= code <= 0xDFFF:
                return "surrogate"  # a low half with no high half before it
            if 0xD800 <= code <= 0xDBFF:
                following = data[offset + 6 : offset + 12]
                if following[:2] != b"\\u" or not 0xDC00 <= int(following[2:], 16) <= 0xDFFF:
                    return "surrogate"
                offset += 12
                continue
            offset += 6
            continue
        if in_string:
            in_string = byte != ord('"')
        elif byte == ord('"'):
            in_string = True
        elif byte in b"[{":
            depth += 1
            if depth > json_limits.MAX_DEPTH:
                return "depth"
        elif byte in b"]}":
            depth -= 1
        offset += 1
    return None


class Chunked:
    """A stream that hands out its bytes in the given chunk sizes."""

    def __init__(self, data: bytes, sizes: list[int]):
        self._stream = io.BytesIO(data)
        self._sizes = sizes or [1]
        self._next = 0

    def read(self, size: int = -1) -> bytes:
        count = self._sizes[self._next % len(self._sizes)]
        self._next += 1
        return self._stream.read(count)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(
    value=values,
    depth=st.one_of(st.just(0), st.integers(55, 80)),
    ascii_only=st.booleans(),
    sizes=st.lists(st.integers(1, 40), min_size=1, max_size=8),
)
def test_the_chunked_scan_agrees_with_a_byte_by_byte_walk(value, depth, ascii_only, sizes):
    data = json.dumps(nest(value, depth), ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    if not ascii_only and b"\xed" in data:
        return  # a raw surrogate is not UTF-8: the parser refuses it, not the scan
    reader = GuardedReader(Chunked(data, sizes))
    passed = b""
    found = None
    try:
        while chunk := reader.read(65536):
            passed += chunk
    except JsonLimitError as error:
        found = "depth" if error.message == json_limits.DEPTH_MESSAGE else "surrogate"
        assert data.startswith(passed) and len(passed) == error.offset
    expected = walk(data)
    assert found == expected, (found, expected, data[:300])
    if found is None:
        assert passed == data


def graph_file(tmp_path, records, name="page.json", compress=False):
    data = json.dumps({"value": records}).encode()
    path = tmp_path / name
    if compress is True:
        data = gzip.compress(data, compresslevel=1)
    elif compress:
        data = compress(data)
    path.write_bytes(data)
    return path


@pytest.mark.django_db
@pytest.mark.parametrize("compress", [True, zstandard.compress], ids=["gzip", "zstd"])
def test_a_compressed_file_unpacking_to_a_string_beyond_the_limit_is_refused(tmp_path, compress):
    """17 MiB of one character compresses to a few kilobytes: a file's size says nothing."""
    record = GraphDirectoryAuditFactory(resultReason="a" * (17 * 1024 * 1024))
    path = graph_file(tmp_path, [GraphDirectoryAuditFactory(), record], "bomb.json", compress)
    assert path.stat().st_size < 100_000
    result = import_file(path)
    assert result.failed
    [message] = result.errors
    assert message.startswith(f"{path}, record 2, field resultReason: holds a string longer")
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_a_record_beyond_the_limit_is_refused_as_it_grows(tmp_path, monkeypatch):
    monkeypatch.setattr(json_limits, "MAX_RECORD_BYTES", 300_000)
    big = GraphDirectoryAuditFactory()
    big["additionalDetails"] = [{"key": f"k{n}", "value": "v" * 50} for n in range(10_000)]
    path = graph_file(tmp_path, [GraphDirectoryAuditFactory(), big])
    [message] = import_file(path).errors
    assert f"{path}, record 2" in message and "holds a record larger than" in message


@pytest.mark.django_db
def test_a_json_line_beyond_the_limit_is_rejected_without_reading_it_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(json_stream, "MAX_LINE_CHARS", 50_000)
    lines = [
        json.dumps(GraphDirectoryAuditFactory()),
        json.dumps({"id": "long", "resultReason": "x" * 200_000}),
        json.dumps(GraphDirectoryAuditFactory()),
    ]
    path = tmp_path / "archive.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rejected = []
    result = import_file(path, continue_on_error=True, on_reject=rejected.append)
    assert (result.new, result.rejected) == (2, 1)
    assert (rejected[0].location, rejected[0].message) == (
        "line 2",
        "is longer than 50,000 characters",
    )


@pytest.mark.django_db
def test_a_csv_line_beyond_the_limit_fails_the_file_naming_the_line(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_rows, "MAX_LINE_CHARS", 50_000)
    path = tmp_path / "AuditLogs.csv"
    path.write_text(
        '"Date (UTC)","Activity"\r\n"2024-11-09T10:01:19Z","Update user"\r\n"' + "x" * 200_000,
        encoding="utf-8",
    )
    [message] = import_file(path).errors
    assert (
        message
        == f"{path}, line 3: has a line longer than 50,000 characters; it is not an export's CSV"
    )
