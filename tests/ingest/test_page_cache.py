"""SQLite's page cache is enlarged for the length of an import or a retention run, each to its
own size, and given back afterwards: the import's size is part of its memory budget (benchmark
metric ``ingest peak RSS``). The retention run's is tested with retention."""

import json

import pytest
from django.db import connection

from logs.ingest import loader
from logs.ingest.bulk_insert import (
    IMPORT_CACHE_KIB,
    LARGE_CACHE_KIB,
    restore_cache,
    set_import_cache,
)
from logs.ingest.importer import import_file
from tests.factories import GraphDirectoryAuditFactory
from tests.support import sqlite_page_cache_size

pytestmark = pytest.mark.django_db


@pytest.fixture
def sqlite_only():
    if connection.vendor != "sqlite":
        pytest.skip("PRAGMA cache_size is SQLite's; PostgreSQL's buffers are the server's")


def test_the_large_cache_is_set_and_given_back(sqlite_only):
    usual = sqlite_page_cache_size()
    previous = set_import_cache()
    assert previous == usual
    assert sqlite_page_cache_size() == -LARGE_CACHE_KIB
    restore_cache(previous)
    assert sqlite_page_cache_size() == usual


def test_a_size_asked_for_is_the_size_set(sqlite_only):
    usual = sqlite_page_cache_size()
    previous = set_import_cache(IMPORT_CACHE_KIB)
    assert sqlite_page_cache_size() == -IMPORT_CACHE_KIB
    restore_cache(previous)
    assert sqlite_page_cache_size() == usual


def test_an_import_keeps_its_size_for_its_whole_run(sqlite_only, monkeypatch, tmp_path):
    usual = sqlite_page_cache_size()
    seen = []
    real_insert_rows = loader.insert_rows

    def insert_rows_seeing_the_cache(*arguments, **keywords):
        seen.append(sqlite_page_cache_size())
        return real_insert_rows(*arguments, **keywords)

    monkeypatch.setattr(loader, "insert_rows", insert_rows_seeing_the_cache)
    path = tmp_path / "page.json"
    records = [GraphDirectoryAuditFactory() for _ in range(3)]
    path.write_text(json.dumps({"value": records}), encoding="utf-8")
    assert import_file(path).ok
    assert seen and set(seen) == {-IMPORT_CACHE_KIB}
    assert sqlite_page_cache_size() == usual
