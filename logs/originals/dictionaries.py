"""The compression dictionaries stored in the database: the one new originals are packed with,
and every one by id for reading, cached per database.

A dictionary is a ``CompressionDictionary`` row, immutable like the events (the same triggers
refuse UPDATE and DELETE of it), with the SHA-256 of its bytes. New originals are packed with the
newest; each value names its own, so a newer dictionary never makes an older value unreadable.

The first dictionary is shipped with auditportal (``shipped.zdict``, trained on the sample
records in fixtures/; see :mod:`logs.originals.training`); migration 0027 stores it. Should the
table be empty when an original is written (a database emptied by ``flush``), the shipped one is
stored again, in the transaction of that write: no event is ever stored referring to a dictionary
that its own transaction did not see stored, and the cache never stands in for that check (a
write asks the database which dictionary is newest, once per batch or per event saved).
"""

import hashlib
from pathlib import Path

from logs.originals.codec import Dictionary, UnreadableOriginal, unpack

TABLE = "logs_compressiondictionary"
SHIPPED_FILE = Path(__file__).with_name("shipped.zdict")
SHIPPED_ORIGIN = "shipped with auditportal: trained on the sample records in fixtures/"

# (database) -> {id: (sha256 hex, Dictionary)}. Rows never change, so an entry stays valid for as
# long as its row exists; only ``flush`` empties the table, and it clears this cache (forget()).
_cache: dict[tuple, dict[int, tuple[str, Dictionary]]] = {}


def shipped_data() -> bytes:
    return SHIPPED_FILE.read_bytes()


def original_text(value, connection) -> str:
    """The text of a stored original read with raw SQL from ``connection``'s database."""
    return unpack(value, reader(connection))


def text_reader(connection):
    """``value -> text`` for many originals read with raw SQL from ``connection``'s database."""
    dictionary_for = reader(connection)
    return lambda value: unpack(value, dictionary_for)


def detached_text_reader(connection):
    """``value -> text`` for originals read already, usable on another thread: every stored
    dictionary is read now, so it never queries the database (another thread's connection may
    be another database, an in-memory SQLite one); a value naming a dictionary that was not
    stored by now is unreadable. Call it after reading the values."""
    cached = _cache.setdefault(_database(connection), {})
    _load(connection, cached)
    dictionaries = dict(cached)

    def dictionary_for(pk: int) -> Dictionary:
        entry = dictionaries.get(pk)
        if entry is None:
            raise UnreadableOriginal(f"compression dictionary {pk} is not stored")
        return entry[1]

    return lambda value: unpack(value, dictionary_for)


def reader(connection):
    """``id -> Dictionary`` for values read from ``connection``'s database."""
    cached = _cache.setdefault(_database(connection), {})

    def dictionary_for(pk: int) -> Dictionary:
        entry = cached.get(pk)
        if entry is None:
            _load(connection, cached)
            entry = cached.get(pk)
            if entry is None:
                raise UnreadableOriginal(f"compression dictionary {pk} is not stored")
        return entry[1]

    return dictionary_for


def writing_dictionary(connection) -> Dictionary:
    """The dictionary new originals are packed with: the newest stored (the shipped one stored
    first if there is none)."""
    dictionary = newest_dictionary(connection)
    if dictionary is None:
        store_dictionary(connection, shipped_data(), origin=SHIPPED_ORIGIN)
        dictionary = newest_dictionary(connection)
    return dictionary


def newest_dictionary(connection) -> Dictionary | None:
    """The newest stored dictionary, or None if none is stored; stores nothing (a parsing
    process packs with it ahead of the batches, which check it is still the one to use)."""
    row = _newest(connection)
    if row is None:
        return None
    pk, sha256 = row
    cached = _cache.setdefault(_database(connection), {})
    entry = cached.get(pk)
    if entry is None or entry[0] != sha256:
        _load(connection, cached)
        entry = cached[pk]
    return entry[1]


def store_dictionary(connection, data: bytes, *, origin: str) -> int:
    """Store ``data`` as a new dictionary (refused unless zstandard reads it as a trained
    dictionary); its id. Committed with the caller's transaction."""
    from logs.models import CompressionDictionary

    Dictionary(1, data)  # refuses bytes that are not a dictionary before anything is stored
    row = CompressionDictionary.objects.using(connection.alias).create(
        data=data, sha256=hashlib.sha256(data).hexdigest(), origin=origin
    )
    return row.pk


def forget() -> None:
    """Drop every cached dictionary (after a database was emptied)."""
    _cache.clear()


def _newest(connection) -> tuple[int, str] | None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, sha256 FROM {TABLE} ORDER BY id DESC LIMIT 1")
        return cursor.fetchone()


def _load(connection, cached: dict) -> None:
    """Read every stored dictionary (a handful, each a few kilobytes) into ``cached``."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, sha256, data FROM {TABLE}")
        rows = cursor.fetchall()
    for pk, sha256, data in rows:
        data = bytes(data)
        if hashlib.sha256(data).hexdigest() != sha256:
            raise UnreadableOriginal(
                f"compression dictionary {pk} no longer matches its SHA-256: it was changed"
            )
        entry = cached.get(pk)
        if entry is None or entry[0] != sha256:
            cached[pk] = (sha256, Dictionary(pk, data))


def _database(connection) -> tuple:
    settings = connection.settings_dict
    return (connection.vendor, settings.get("HOST"), settings.get("PORT"), settings["NAME"])
