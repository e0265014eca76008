"""Seals on the lookup rows whose text events show, so a relabelled lookup cannot go unnoticed.

An event stores the ids of its service, category, activity and initiator, and the hash chain
(logs.integrity) covers those ids, not the text they stand for. Renaming activity 7 from "Add
member to group" to "Nothing happened" would relabel every event of that activity in the
portal, the API, the reports and every export, with the chain intact. Lookups are shared by
many events, so their text cannot be folded into each event's link after the fact; instead
each lookup row gets a seal when it is stored:

    seal = MAC(name, id, every sealed value) || MAC(name, id, field 1, value 1) || ...

keyed by ``SECRET_KEY`` (as the retention checkpoints are) with BLAKE2b's keyed mode, a MAC in
its own right and several times cheaper per call than HMAC-SHA256, which matters at one call
per lookup row. The row's id is in every MAC, so swapping the texts (and seals) of two rows is
seen; the key is in every MAC, so someone who can write to the database but does not hold the
key cannot seal a text of their own. Verification computes the row's MAC only; the per-field
MACs (128 bits each) are read only when it fails, to name the field that changed. Seals live in
their own insert-only table (``logs_lookupseal``): a lookup's id is known only once it is
inserted (the loader inserts lookups in bulk, skipping names already stored), so the seal is
written right after, in the same transaction.

``verify_lookups()`` recomputes every seal: the cost is per lookup row, not per event, so it
adds little to walking millions of events. A broken seal is reported with the field and the
events that show the text (the first few ids and how many). Target names are sealed too: no
event shows them (targets keep their own names), but the target filter and the search find
targets through them, so a renamed one would hide events from a search.

A lookup stored before seals existed is sealed by the migration that added them (0021): its
text is taken as it stood then.
"""

import hashlib
import hmac
from dataclasses import dataclass

import orjson
from django.conf import settings

SEAL_SALT = "auditportal.lookup_seals.LookupSeal"
SEAL_TABLE = "logs_lookupseal"
ROW_MAC_SIZE = 32
FIELD_MAC_SIZE = 16
VERIFY_CHUNK = 10_000
# How many of the affected events a broken seal names (and then how many there are).
EVENTS_NAMED = 5
# Rows looked up per statement when sealing new ones (well under SQLite's parameter limit).
SEAL_CHUNK = 500


@dataclass(frozen=True)
class SealedLookup:
    """A lookup table whose text events show (or the search reads)."""

    name: str  # as the seal table and reports name it (the model's verbose name)
    table: str
    natural_key: str  # the unique column the loader finds new rows by
    fields: tuple[str, ...]  # the sealed columns, in seal order
    event_column: str | None  # the event column that refers to it, if events show it


INITIATOR_FIELDS = (
    "identity_key",
    "kind",
    "user_object_id",
    "user_display_name",
    "user_principal_name",
    "user_type",
    "home_tenant_id",
    "home_tenant_name",
    "app_id",
    "app_display_name",
    "service_principal_id",
    "service_principal_name",
    "search_text",
)

LOOKUPS = {
    lookup.table: lookup
    for lookup in (
        SealedLookup("service", "logs_service", "name", ("name",), "service_id"),
        SealedLookup("category", "logs_category", "name", ("name",), "category_id"),
        SealedLookup("activity", "logs_activity", "name", ("name",), "activity_id"),
        SealedLookup(
            "initiator", "logs_initiator", "identity_key", INITIATOR_FIELDS, "initiator_id"
        ),
        SealedLookup("target name", "logs_targetname", "name", ("name", "folded"), None),
        SealedLookup(
            "additional details",
            "logs_detailslist",
            "digest",
            ("digest", "entries"),
            "details_list_id",
        ),
        SealedLookup("user agent", "logs_useragent", "digest", ("digest", "text"), "user_agent_id"),
    )
}


def _key(secret: str) -> bytes:
    # Salted as django.utils.crypto.salted_hmac derives its key, once per verification.
    return hashlib.sha256((SEAL_SALT + secret).encode()).digest()


def _row_mac(key: bytes, lookup: "SealedLookup", pk: int, values) -> bytes:
    message = orjson.dumps((lookup.name, pk, *values))
    return hashlib.blake2b(message, key=key, digest_size=ROW_MAC_SIZE).digest()


def _field_mac(key: bytes, lookup: "SealedLookup", pk: int, field: str, value) -> bytes:
    message = orjson.dumps((lookup.name, pk, field, value))
    return hashlib.blake2b(message, key=key, digest_size=FIELD_MAC_SIZE).digest()


def seal_of(lookup: SealedLookup, pk: int, values, secret: str | None = None) -> bytes:
    """The seal of ``lookup`` row ``pk`` holding ``values`` (in ``lookup.fields`` order)."""
    key = _key(secret or settings.SECRET_KEY)
    return _row_mac(key, lookup, pk, values) + b"".join(
        _field_mac(key, lookup, pk, field, value)
        for field, value in zip(lookup.fields, values, strict=True)
    )


def seal_new_rows(connection, lookup: SealedLookup, keys=None) -> int:
    """Seal the rows of ``lookup`` that have no seal yet: those with these natural keys, or all
    of them (``keys=None``, for the migration). Call in the transaction that stored the rows.

    Two imports storing the same new name both seal it: the seals are equal, and the second
    insert is skipped (ON CONFLICT DO NOTHING)."""
    columns = ", ".join(f"item.{field}" for field in lookup.fields)
    select = (
        f"SELECT item.id, {columns} FROM {lookup.table} AS item WHERE NOT EXISTS "
        f"(SELECT 1 FROM {SEAL_TABLE} AS seal WHERE seal.lookup = %s AND seal.row_id = item.id)"
    )
    if keys is None:
        batches = [(select, [lookup.name])]
    else:
        keys = sorted(set(keys))
        batches = []
        for start in range(0, len(keys), SEAL_CHUNK):
            chunk = keys[start : start + SEAL_CHUNK]
            placeholders = ", ".join(["%s"] * len(chunk))
            batches.append(
                (
                    f"{select} AND item.{lookup.natural_key} IN ({placeholders})",
                    [lookup.name, *chunk],
                )
            )
    sealed = 0
    with connection.cursor() as cursor:
        for sql, parameters in batches:
            cursor.execute(sql, parameters)
            rows = cursor.fetchall()
            write_seals(cursor, lookup, rows)
            sealed += len(rows)
    return sealed


def write_seals(cursor, lookup: SealedLookup, rows) -> None:
    """Seal ``rows`` of ``lookup``, each (id, *values in ``lookup.fields`` order) as stored."""
    if rows:
        cursor.executemany(
            f"INSERT INTO {SEAL_TABLE} (lookup, row_id, seal) VALUES (%s, %s, %s) "
            "ON CONFLICT DO NOTHING",
            [(lookup.name, pk, seal_of(lookup, pk, values)) for pk, *values in rows],
        )


# Verification -------------------------------------------------------------------------------


@dataclass
class LookupBreak:
    """A lookup row whose text no longer matches its seal, has none, or is gone."""

    kind: str  # "modified", "inserted" or "missing", as for chain breaks
    lookup: SealedLookup
    row_id: int
    fields: tuple[str, ...]
    event_ids: list[int]
    events: int

    @property
    def detail(self) -> str:
        what = f"{self.lookup.name} {self.row_id}"
        fields = ", ".join(self.fields)
        if self.kind == "modified":
            problem = (
                f"{what}: its {fields} no longer matches its seal: the text was changed "
                "outside auditportal"
            )
        elif self.kind == "inserted":
            problem = (
                f"{what} has no seal: it was not stored by auditportal, or its seal was deleted"
            )
        else:
            problem = f"{what} was deleted outside retention (its seal remains)"
        if self.lookup.event_column is None:
            return (
                f"{problem}; no event shows it, but the target filter and the search find "
                "targets by it"
            )
        if not self.events:
            return f"{problem}; no stored event shows it"
        ids = ", ".join(str(pk) for pk in self.event_ids)
        more = ", ..." if self.events > len(self.event_ids) else ""
        return f"{problem}; {self.events} events show it (event ids {ids}{more})"


def _keys() -> list[bytes]:
    return [_key(secret) for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]]


def _changed_fields(lookup, pk, values, seal, keys) -> tuple[str, ...]:
    """The fields that do not match ``seal`` under any of the keys (none if the row matches)."""
    if seal is None:
        return lookup.fields
    seal = bytes(seal)
    if len(seal) != ROW_MAC_SIZE + FIELD_MAC_SIZE * len(lookup.fields):
        return lookup.fields
    row_mac = seal[:ROW_MAC_SIZE]
    if any(hmac.compare_digest(_row_mac(key, lookup, pk, values), row_mac) for key in keys):
        return ()
    changed = []
    for index, (field, value) in enumerate(zip(lookup.fields, values, strict=True)):
        start = ROW_MAC_SIZE + index * FIELD_MAC_SIZE
        stored = seal[start : start + FIELD_MAC_SIZE]
        if not any(
            hmac.compare_digest(_field_mac(key, lookup, pk, field, value), stored) for key in keys
        ):
            changed.append(field)
    # Every field matching while the row does not: the seal itself was altered.
    return tuple(changed) or lookup.fields


def _affected_events(connection, lookup: SealedLookup, pk: int) -> tuple[list[int], int]:
    if lookup.event_column is None:
        return [], 0
    column = lookup.event_column
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM logs_auditevent WHERE {column} = %s ORDER BY id LIMIT %s",
            [pk, EVENTS_NAMED],
        )
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT count(*) FROM logs_auditevent WHERE {column} = %s", [pk])
        count = cursor.fetchone()[0]
    return ids, count


def _break(connection, kind, lookup, pk, fields) -> LookupBreak:
    ids, count = _affected_events(connection, lookup, pk)
    return LookupBreak(kind, lookup, pk, fields, ids, count)


def verify_lookups(connection, *, chunk_size: int = VERIFY_CHUNK) -> tuple[int, LookupBreak | None]:
    """Recompute the seal of every lookup row; returns how many rows were checked and the first
    row that fails (changed text, no seal, or deleted while its seal remains)."""
    keys = _keys()
    checked = 0
    for lookup in LOOKUPS.values():
        columns = ", ".join(f"item.{field}" for field in lookup.fields)
        sql = (
            f"SELECT item.id, {columns}, seal.seal FROM {lookup.table} AS item "
            f"LEFT JOIN {SEAL_TABLE} AS seal ON seal.lookup = %s AND seal.row_id = item.id "
            "WHERE item.id > %s ORDER BY item.id LIMIT %s"
        )
        last = 0
        while True:
            with connection.cursor() as cursor:
                cursor.execute(sql, [lookup.name, last, chunk_size])
                rows = cursor.fetchall()
            if not rows:
                break
            for pk, *values, seal in rows:
                changed = _changed_fields(lookup, pk, values, seal, keys)
                if changed:
                    kind = "inserted" if seal is None else "modified"
                    return checked, _break(connection, kind, lookup, pk, changed)
                checked += 1
            last = rows[-1][0]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT seal.row_id FROM {SEAL_TABLE} AS seal WHERE seal.lookup = %s AND NOT "
                f"EXISTS (SELECT 1 FROM {lookup.table} AS item WHERE item.id = seal.row_id) "
                "ORDER BY seal.row_id LIMIT 1",
                [lookup.name],
            )
            gone = cursor.fetchone()
        if gone:
            return checked, _break(connection, "missing", lookup, gone[0], ())
    return checked, None
