"""The stored chain, position by position, as the verifiers and the chain export read it."""

from collections.abc import Iterator

from django.db import connection

from auditportal_verify.chain import hashed_fields
from logs.hash_chain import EVENT_TABLE
from logs.integrity import EXTRA_COLUMNS, ORIGINAL, VERIFY_CHUNK, _event_rows_sql
from logs.originals.dictionaries import text_reader


def chain_rows(chunk_size: int = VERIFY_CHUNK) -> Iterator[tuple[int, int, bytes, tuple]]:
    """``(seq, event id, link, chain fields)`` for every chained event, in position order;
    the fields are those of auditportal_verify.chain.CHAIN_FIELDS, then the notes if any, as
    the link hashes them (auditportal_verify.chain.hashed_fields)."""
    sql = _event_rows_sql()
    original_text = text_reader(connection)
    after = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(sql, [after, chunk_size])
            rows = cursor.fetchall()
        if not rows:
            return
        for seq, pk, link, entra_id, *fields, notes in (row[:-EXTRA_COLUMNS] for row in rows):
            # Stored packed, chained as text (logs.originals); unreadable, it raises.
            fields[ORIGINAL] = original_text(fields[ORIGINAL])
            yield seq, pk, bytes(link), hashed_fields((entra_id, *fields), notes)
        after = rows[-1][0]


def chain_positions(chunk_size: int = 50_000) -> Iterator[tuple[int, int, bytes]]:
    """``(seq, event id, link)`` for every chained event, in position order: what checking
    the chain against the digests needs once verify_chain has recomputed the links."""
    sql = (
        f"SELECT chain_seq, id, chain_link FROM {EVENT_TABLE} WHERE chain_seq > %s "
        "ORDER BY chain_seq LIMIT %s"
    )
    after = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(sql, [after, chunk_size])
            rows = cursor.fetchall()
        if not rows:
            return
        for seq, pk, link in rows:
            yield seq, pk, bytes(link)
        after = rows[-1][0]
