"""The stored form of an original: one tag byte, then the text itself or a compressed frame.

=======  ===================================================================================
tag      what follows
=======  ===================================================================================
``0x00`` the text, UTF-8, as is: what compression would not make smaller (or, were the frame
         ever not to read back as the text, what is stored instead of it)
``0x01`` the dictionary's id (unsigned LEB128, the ``CompressionDictionary`` row), then one
         zstandard frame made with that dictionary, holding the content size and a checksum
=======  ===================================================================================

The dictionary is named by our own id, not by zstandard's dictionary id in the frame (left out:
four bytes a row), so that the row holding a dictionary is found from the value alone, and a
new dictionary never changes how an old value reads. The frame's checksum (the low four bytes of
its content's XXH64) makes a frame decompressed with the wrong dictionary, or damaged, fail
loudly instead of giving other text: whatever cannot be read back byte for byte is an error
(``UnreadableOriginal``), never a different original.

No database here: :mod:`logs.originals.dictionaries` finds the dictionaries.
"""

import hashlib
import threading

import zstandard

from logs.ingest.json_limits import MAX_RECORD_BYTES

RAW = 0x00
ZSTD = 0x01
# zstandard's level: higher levels took several times as long per record on audit records for
# a few percent less space (docs/internals/compressed-originals.md).
LEVEL = 3
# The largest text a frame may claim to hold, checked before anything is allocated for it: an
# original is the compact JSON of one record, and a record is at most MAX_RECORD_BYTES of its
# file; JSON re-serialised can be longer than what was read (a number such as ``1e5`` is written
# ``100000.0``), so the bound leaves room for that.
MAX_TEXT_BYTES = 4 * MAX_RECORD_BYTES
# A dictionary id takes at most this many bytes (LEB128 of a 64-bit id).
MAX_ID_BYTES = 10


class UnreadableOriginal(ValueError):
    """A stored value that does not read back as an original: damaged, or not written by us."""


class Dictionary:
    """One stored dictionary, ready to compress and decompress with.

    zstandard's compressors and decompressors must not be used by two threads at once (an import
    stores batches on a second thread), so each thread gets its own, made on first use.
    """

    def __init__(self, pk: int, data: bytes):
        if pk < 1:
            raise ValueError(f"a dictionary id is a positive row id, not {pk}")
        self.pk = pk
        self.data = bytes(data)
        # What a value packed elsewhere (the parsing process of an import) is checked against
        # before it is stored as packed with this dictionary.
        self.identity = (pk, hashlib.sha256(self.data).hexdigest())
        # FULLDICT: a trained zstandard dictionary, with its entropy tables; other bytes are
        # refused here rather than taken as raw content.
        self._dictionary = zstandard.ZstdCompressionDict(
            self.data, dict_type=zstandard.DICT_TYPE_FULLDICT
        )
        self._dictionary.precompute_compress(level=LEVEL)
        self.prefix = bytes([ZSTD]) + encode_id(pk)
        self._local = threading.local()

    def compress(self, raw: bytes) -> bytes:
        compressor = getattr(self._local, "compressor", None)
        if compressor is None:
            compressor = self._local.compressor = zstandard.ZstdCompressor(
                dict_data=self._dictionary,
                write_checksum=True,
                write_content_size=True,
                write_dict_id=False,
            )
        return compressor.compress(raw)

    def decompress(self, frame: bytes) -> bytes:
        size = zstandard.frame_content_size(frame)
        if size < 0 or size > MAX_TEXT_BYTES:
            raise UnreadableOriginal(
                f"the compressed frame does not state a size up to {MAX_TEXT_BYTES} bytes"
            )
        decompressor = getattr(self._local, "decompressor", None)
        if decompressor is None:
            decompressor = self._local.decompressor = zstandard.ZstdDecompressor(
                dict_data=self._dictionary
            )
        # The size is checked above; exactly one frame, and no byte after it: nothing appended to
        # a value goes unnoticed.
        return decompressor.decompress(frame, allow_extra_data=False)


def pack(text: str, dictionary: Dictionary) -> bytes:
    """``text`` in its stored form, compressed with ``dictionary`` where that makes it smaller.

    The frame is decompressed again before it is used: a frame that would not give back these
    exact bytes is never stored (the text is, as is).
    """
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(f"an original must be Unicode text: {error}") from None
    frame = dictionary.compress(raw)
    if len(dictionary.prefix) + len(frame) < 1 + len(raw) and _reads_back(dictionary, frame, raw):
        return dictionary.prefix + frame
    return bytes([RAW]) + raw


def _reads_back(dictionary: Dictionary, frame: bytes, raw: bytes) -> bool:
    try:
        return dictionary.decompress(frame) == raw
    except (zstandard.ZstdError, UnreadableOriginal):
        return False


def unpack(value, dictionary_for) -> str:
    """The text a stored ``value`` holds; ``dictionary_for(id)`` gives a stored dictionary.

    Raises UnreadableOriginal for anything that is not a value ``pack`` wrote, or that no longer
    reads back whole (a frame's checksum fails, the text is not UTF-8).
    """
    if isinstance(value, str):
        # SQLite keeps whatever type is written: text where a packed value belongs was written
        # around auditportal.
        raise UnreadableOriginal("the stored original is text, not a packed original")
    data = bytes(value)
    if not data:
        raise UnreadableOriginal("the stored original is empty: not even its tag byte")
    tag = data[0]
    if tag == RAW:
        raw = data[1:]
    elif tag == ZSTD:
        pk, start = decode_id(data, 1)
        try:
            raw = dictionary_for(pk).decompress(data[start:])
        except zstandard.ZstdError as error:
            raise UnreadableOriginal(
                f"the compressed original does not decompress with dictionary {pk}: {error}"
            ) from None
    else:
        raise UnreadableOriginal(f"the stored original has an unknown tag byte {tag:#04x}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnreadableOriginal(f"the stored original is not UTF-8 text: {error}") from None


def encode_id(number: int) -> bytes:
    """``number`` (not negative) as unsigned LEB128: seven bits a byte, low first, the high bit
    set on every byte but the last."""
    if number < 0:
        raise ValueError(f"an id is not negative, not {number}")
    out = bytearray()
    while number > 0x7F:
        out.append((number & 0x7F) | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)


def decode_id(data: bytes, start: int) -> tuple[int, int]:
    """The LEB128 number at ``data[start:]`` and where what follows it starts."""
    number = 0
    for index in range(start, min(len(data), start + MAX_ID_BYTES)):
        byte = data[index]
        number |= (byte & 0x7F) << (7 * (index - start))
        if not byte & 0x80:
            return number, index + 1
    raise UnreadableOriginal("the stored original's dictionary id is cut short")
