"""The chain export: every stored event with its place in the hash chain, for offline checks.

One JSON object a line, in chain order: ``chain_seq``, ``chain_link`` (hex), ``event_id``, and
the fields the link covers under the names of auditportal_verify.chain.CHAIN_FIELDS, exactly as
hashed (the time as "YYYY-MM-DD HH:MM:SS.ffffff" UTC, lookups by id, ``original`` verbatim),
and ``normalisation_notes`` (empty when the event has none, and then not hashed).
"""

from collections.abc import Iterator

import orjson

from auditportal_verify.chain import CHAIN_FIELDS, NOTES_FIELD
from logs.digests.rows import chain_rows


def chain_export_lines() -> Iterator[str]:
    for seq, pk, link, fields in chain_rows():
        row = {"chain_seq": seq, "chain_link": link.hex(), "event_id": pk}
        row.update(zip(CHAIN_FIELDS, fields[: len(CHAIN_FIELDS)], strict=True))
        row[NOTES_FIELD] = fields[len(CHAIN_FIELDS)] if len(fields) > len(CHAIN_FIELDS) else ""
        yield orjson.dumps(row).decode() + "\n"
