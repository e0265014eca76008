"""A retention run enlarges SQLite's page cache to its own size, larger than an import's (it
has no memory target, and the cache keeps its purge faster: benchmark metric ``retention``),
for the whole run, and gives the connection's size back afterwards."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from logs.ingest.bulk_insert import IMPORT_CACHE_KIB, LARGE_CACHE_KIB
from logs.ingest.importer import import_file
from logs.models import AuditEvent
from logs.retention import run as retention_run
from logs.retention.policy import RetentionPolicy
from logs.retention.run import apply_retention
from tests.factories import GraphDirectoryAuditFactory
from tests.support import sqlite_page_cache_size

pytestmark = pytest.mark.django_db


def test_a_retention_run_keeps_its_own_size_for_its_whole_run(monkeypatch, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("PRAGMA cache_size is SQLite's; PostgreSQL's buffers are the server's")
    assert IMPORT_CACHE_KIB != LARGE_CACHE_KIB
    path = tmp_path / "page.json"
    records = [GraphDirectoryAuditFactory() for _ in range(3)]
    path.write_text(json.dumps({"value": records}), encoding="utf-8")
    assert import_file(path).ok
    usual = sqlite_page_cache_size()
    sizes_during_retention = []
    real_archive_and_purge = retention_run._archive_and_purge

    def archive_and_purge_seeing_the_cache(*arguments, **keywords):
        sizes_during_retention.append(sqlite_page_cache_size())
        return real_archive_and_purge(*arguments, **keywords)

    monkeypatch.setattr(retention_run, "_archive_and_purge", archive_and_purge_seeing_the_cache)
    result = apply_retention(
        RetentionPolicy(1), archive=tmp_path / "archive", now=timezone.now() + timedelta(days=36500)
    )
    assert result.purged == 3 and not AuditEvent.objects.exists()
    assert sizes_during_retention == [-LARGE_CACHE_KIB]
    assert sqlite_page_cache_size() == usual
