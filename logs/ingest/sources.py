"""Opening an input file: decompression, text encoding, and refusing what is not text.

Real exports arrive as UTF-8 (with or without a byte-order mark), as UTF-16 when Excel saves
"Unicode text", gzip- or zstandard-compressed (exports, retention archives), or by mistake as
something else entirely. Everything
is streamed: nothing here reads more than a small sample into memory.
"""

import codecs
import gzip
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import zstandard

from logs.ingest.errors import ImportFileError

SAMPLE_BYTES = 64 * 1024
_NOT_UTF8 = "not-utf-8"
_GZIP_MAGIC = b"\x1f\x8b"
# A zstandard frame's magic number (RFC 8878, little-endian 0xFD2FB528).
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
GZIP, ZSTD = "gzip", "zstd"
_BOMS = [
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]


@dataclass
class InputFile:
    """A readable input: its path, its compression (None, GZIP or ZSTD), its text encoding
    and a text sample."""

    path: Path
    compression: str | None
    encoding: str
    sample: str
    _raw = None

    @property
    def name(self) -> str:
        return str(self.path)

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    def bytes_consumed(self) -> int:
        """How far into the file (as stored, compressed or not) reading has got: for progress."""
        raw = self._raw
        if raw is None or raw.closed:
            return self.size
        return raw.tell()

    def open_bytes(self):
        """The decompressed bytes, as written (any byte-order mark included)."""
        raw = open(self.path, "rb")  # noqa: SIM115 - the caller closes it
        self._raw = raw
        return _decompressing(raw, self.compression)

    def open_text(self):
        """The text, decoded, with universal newlines left to the caller (CSV wants newline='')."""
        return io.TextIOWrapper(self.open_bytes(), encoding=self.encoding, newline="")

    def open_utf8(self):
        """A UTF-8 byte stream without a byte-order mark: what the JSON parser reads fastest."""
        if self.encoding == "utf-8":
            return self.open_bytes()
        if self.encoding == "utf-8-sig":
            stream = self.open_bytes()
            stream.read(len(codecs.BOM_UTF8))
            return stream
        return _Utf8Reader(self.open_text())


def _decompressing(raw, compression: str | None):
    """``raw``'s bytes decompressed as ``compression`` says, streamed; closing it closes
    ``raw``."""
    if compression == GZIP:
        return _ClosingGzipFile(raw)
    if compression == ZSTD:
        # Every frame in turn: a file of several frames (zstd tools append them) is one text.
        return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
    return raw


class _ClosingGzipFile(gzip.GzipFile):
    """A gzip reader that also closes the file it reads from."""

    def __init__(self, raw):
        super().__init__(fileobj=raw, mode="rb")
        self._owned_raw = raw

    def close(self):
        try:
            super().close()
        finally:
            self._owned_raw.close()


class _Utf8Reader(io.RawIOBase):
    """Re-encodes a text stream as UTF-8 bytes, a chunk at a time."""

    def __init__(self, text_stream):
        self._text = text_stream
        self._pending = b""

    def readable(self):
        return True

    def readinto(self, buffer):
        while len(self._pending) < len(buffer):
            chunk = self._text.read(SAMPLE_BYTES)
            if not chunk:
                break
            self._pending += chunk.encode("utf-8")
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def close(self):
        self._text.close()
        super().close()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def open_input(path) -> InputFile:
    """Check that ``path`` is a readable, non-empty text file and work out how to decode it."""
    path = Path(path)
    name = str(path)
    if not path.exists():
        raise ImportFileError(name, "no such file")
    if path.is_dir():
        raise ImportFileError(name, "is a directory, not a file")
    try:
        with open(path, "rb") as stream:
            head = stream.read(len(_ZSTD_MAGIC))
    except OSError as error:
        raise ImportFileError(name, f"cannot be read ({error.strerror})") from None
    compression = GZIP if head.startswith(_GZIP_MAGIC) else ZSTD if head == _ZSTD_MAGIC else None
    try:
        with _decompressing(open(path, "rb"), compression) as stream:
            raw = stream.read(SAMPLE_BYTES)
    except (OSError, EOFError, zstandard.ZstdError) as error:
        raise ImportFileError(name, f"is not a readable {compression} file ({error})") from None
    if not raw.strip():
        raise ImportFileError(name, "is empty: there are no records to import")
    encoding = _detect_encoding(raw)
    if encoding is None:
        raise ImportFileError(
            name, "is not a text file (it looks binary): expected JSON or CSV audit logs"
        )
    if encoding == _NOT_UTF8:
        raise ImportFileError(
            name,
            'is not UTF-8 or UTF-16 text; save it as UTF-8 (in Excel: "CSV UTF-8") and retry',
        )
    sample = raw.decode(encoding, errors="ignore")
    if encoding.startswith("utf-16"):
        sample = sample.lstrip("\ufeff")
    if _looks_binary(sample):
        raise ImportFileError(
            name, "is not a text file (it looks binary): expected JSON or CSV audit logs"
        )
    if not sample.strip():
        raise ImportFileError(name, "is empty: there are no records to import")
    return InputFile(path=path, compression=compression, encoding=encoding, sample=sample)


def _detect_encoding(raw: bytes) -> str | None:
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            return encoding
    # UTF-16 without a byte-order mark: ASCII text shows as every other byte NUL.
    even_nuls = raw[0:200:2].count(0)
    odd_nuls = raw[1:200:2].count(0)
    pairs = len(raw[0:200:2])
    if pairs >= 4 and odd_nuls > pairs * 0.7 and even_nuls == 0:
        return "utf-16-le"
    if pairs >= 4 and even_nuls > pairs * 0.7 and odd_nuls == 0:
        return "utf-16-be"
    if b"\x00" in raw:
        return None
    try:
        # The sample may end inside a multi-byte character; an incremental decoder allows that.
        codecs.getincrementaldecoder("utf-8")().decode(raw, final=False)
    except UnicodeDecodeError:
        return None if _looks_binary(raw.decode("latin-1")) else _NOT_UTF8
    return "utf-8"


def _looks_binary(sample: str) -> bool:
    controls = sum(1 for char in sample[:4096] if ord(char) < 32 and char not in "\t\r\n\f")
    return "\x00" in sample or controls > len(sample[:4096]) * 0.05
