"""A SHA-256 digest held as its 64 hexadecimal characters in Python and stored as its 32 bytes.

An event's ``content_hash`` and ``match_key`` (logs.ingest.fingerprints) are digests: written
out in hexadecimal they took 65 bytes of every event row, twice what the digest is. Stored as
bytes, each takes 33. Everything above the database keeps the hexadecimal text: every ORM read
goes through ``from_db_value`` and every ORM write through ``get_db_prep_value``. The loader's
bulk insert and the raw-SQL readers convert with :func:`digest_bytes` and :func:`digest_text`.

An empty digest ("" in Python, empty bytes stored) means none was kept: events stored before
the digests were, and rows written around auditportal.
"""

from django.db import models

DIGEST_BYTES = 32
_HEX_DIGITS = frozenset("0123456789abcdef")


def digest_bytes(text: str) -> bytes:
    """The stored form of a digest given as hexadecimal text ("" stays empty)."""
    if not text:
        return b""
    if len(text) != 2 * DIGEST_BYTES or not _HEX_DIGITS.issuperset(text):
        raise ValueError(f"not a SHA-256 digest in lowercase hexadecimal: {text!r}")
    return bytes.fromhex(text)


def digest_text(value) -> str:
    """The hexadecimal text of a stored digest (bytes, memoryview or None).

    A value stored as text (a row written around auditportal into SQLite, whose columns take
    any type) is returned as it is, so that a comparison with it fails rather than reading a
    different digest into it.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return bytes(value).hex()


class DigestField(models.BinaryField):
    description = "A SHA-256 digest, stored as 32 bytes, read as 64 hexadecimal characters"

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None:
            return None
        if not isinstance(value, str):
            raise TypeError(f"{self.name} holds hexadecimal text, not {type(value).__name__}")
        return connection.Database.Binary(digest_bytes(value))

    def from_db_value(self, value, expression, connection):
        return digest_text(value)

    def to_python(self, value):
        # Text stays text (BinaryField would read a str as base64).
        return digest_text(value)

    def get_default(self):
        return "" if not self.has_default() else super().get_default()

    def value_to_string(self, obj):
        # Serialised (dumpdata) as the hexadecimal text, not as base64 of the bytes.
        return self.value_from_object(obj)
