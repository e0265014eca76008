"""Migration 0029 stores each event's content hash and match key as their 32 bytes, and going
back writes the hexadecimal text again: what the ORM reads is the same text before and after,
the chain verifies, and an import after the migration still tells duplicates, conflicts and
a CSV row's id-bearing twin from what is stored, on both databases."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from logs.ingest.importer import import_file
from logs.integrity import verify_chain
from logs.models import AuditEvent
from logs.models.digest_field import digest_bytes, digest_text
from logs.originals import dictionaries
from tests.support import FIXTURES_DIR

BEFORE = [("logs", "0028_csv_match_key_index")]
SIX_EVENTS_JSON = FIXTURES_DIR / "portal-json" / "AuditLogs_2026-11-02.json"
SIX_EVENTS_CSV = FIXTURES_DIR / "portal-csv" / "AuditLogs_2026-11-02.csv"


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    dictionaries.forget()


def stored_digests() -> dict[int, tuple]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, content_hash, match_key FROM logs_auditevent")
        return {
            pk: tuple(value if isinstance(value, str) else bytes(value) for value in values)
            for pk, *values in cursor
        }


def test_digests_are_stored_as_bytes_and_written_back_as_text(transactional_db):
    for path in sorted(FIXTURES_DIR.rglob("*")):
        if path.suffix in {".json", ".csv"}:
            assert import_file(path).ok
    texts = {
        pk: (content_hash, key)
        for pk, content_hash, key in AuditEvent.objects.values_list(
            "pk", "content_hash", "match_key"
        )
    }
    assert len(texts) > 60
    assert all(len(content_hash) == 64 and len(key) == 64 for content_hash, key in texts.values())
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        migrate(BEFORE)
        # Going back: the columns hold the hexadecimal text again, exactly.
        assert stored_digests() == texts
    finally:
        migrate(leaves)
    assert stored_digests() == {
        pk: (bytes.fromhex(content_hash), bytes.fromhex(key))
        for pk, (content_hash, key) in texts.items()
    }
    reads = AuditEvent.objects.values_list("pk", "content_hash", "match_key")
    assert {pk: (content_hash, key) for pk, content_hash, key in reads} == texts
    assert verify_chain().ok
    with (
        pytest.raises(DatabaseError, match="immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE logs_auditevent SET match_key = match_key")


def test_after_the_migration_imports_compare_with_the_stored_bytes(transactional_db):
    import_file(SIX_EVENTS_JSON)
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    migrate(BEFORE)
    migrate(leaves)
    again = import_file(SIX_EVENTS_JSON)
    assert (again.new, again.duplicate, again.conflict) == (0, 6, 0)
    csv = import_file(SIX_EVENTS_CSV)
    assert (csv.new, csv.cross_format) == (6, 6)
    # The other way round: a JSON record finds its CSV twin by the CSV rows' stored keys.
    assert import_file(SIX_EVENTS_CSV).duplicate == 6


@pytest.mark.parametrize("text", ["A" * 64, "0" * 63, "0" * 66, "g" * 64, " " + "0" * 63], ids=repr)
def test_only_a_lowercase_sha256_digest_is_stored(text):
    with pytest.raises(ValueError, match="not a SHA-256 digest"):
        digest_bytes(text)


def test_an_empty_digest_stays_empty_and_a_digest_reads_back_as_its_text():
    digest = "0123456789abcdef" * 4
    assert digest_bytes("") == b""
    assert digest_text(digest_bytes(digest)) == digest
    assert digest_text(memoryview(digest_bytes(digest))) == digest
    assert digest_text(None) == digest_text(b"") == ""
