"""A new SQLite database file is laid out the way the settings intend."""

import sqlite3

import pytest
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's file settings")


def test_a_new_file_gets_16_kib_pages_and_a_write_ahead_log(tmp_path):
    """The page size must be set before anything writes the file's header, which switching
    to the write-ahead log does: in the other order the file keeps 4 KiB pages."""
    new_file = sqlite3.connect(tmp_path / "new.sqlite3")
    new_file.executescript(settings.DATABASES["default"]["OPTIONS"]["init_command"])
    new_file.execute("CREATE TABLE example (id integer PRIMARY KEY)")

    assert new_file.execute("PRAGMA page_size").fetchone()[0] == 16384
    assert new_file.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_existing_file_keeps_its_page_size(tmp_path):
    path = tmp_path / "existing.sqlite3"
    with sqlite3.connect(path) as existing:
        existing.execute("PRAGMA page_size = 4096")
        existing.execute("CREATE TABLE example (id integer PRIMARY KEY)")
    reopened = sqlite3.connect(path)
    reopened.executescript(settings.DATABASES["default"]["OPTIONS"]["init_command"])

    assert reopened.execute("PRAGMA page_size").fetchone()[0] == 4096
    assert reopened.execute("SELECT count(*) FROM example").fetchone()[0] == 0
