"""Migration 0027 packs every stored original (logs.originals), and going back unpacks them:
the chain still verifies, and the originals and the exports are the same bytes before and
after, on both databases."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from logs.exports import Export
from logs.ingest.importer import import_file
from logs.integrity import verify_chain
from logs.models import AuditEvent
from logs.originals import dictionaries
from logs.originals.codec import ZSTD
from tests.support import FIXTURES_DIR

BEFORE = [("logs", "0026_event_month_partitions")]


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    dictionaries.forget()


def stored_originals() -> dict[int, object]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, original FROM logs_auditevent")
        return {pk: value if isinstance(value, str) else bytes(value) for pk, value in cursor}


def ndjson_export() -> str:
    return "".join(Export(AuditEvent.objects.order_by("pk"), "ndjson", chunk_size=7))


def test_stored_originals_are_packed_and_unpacked_byte_for_byte(transactional_db):
    for path in sorted(FIXTURES_DIR.rglob("*")):
        if path.suffix in {".json", ".csv"}:
            assert import_file(path).ok
    texts = dict(AuditEvent.objects.values_list("pk", "original"))
    assert len(texts) > 60
    export = ndjson_export()
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        migrate(BEFORE)
        # Going back: the column holds the text again, exactly.
        assert stored_originals() == texts
    finally:
        migrate(leaves)
    packed = stored_originals()
    assert packed.keys() == texts.keys()
    assert all(value[0] == ZSTD for value in packed.values())
    assert sum(map(len, packed.values())) < sum(len(text.encode()) for text in texts.values()) / 3
    assert dict(AuditEvent.objects.values_list("pk", "original")) == texts
    assert verify_chain().ok
    assert ndjson_export() == export
    # The immutability triggers are back (SQLite's were dropped for the rewrite).
    for table in ("logs_auditevent", "logs_compressiondictionary"):
        with (
            pytest.raises(DatabaseError, match="immutable"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(f"UPDATE {table} SET id = id")
