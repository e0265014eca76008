"""auditportal's own system checks (logs/checks.py)."""

import sqlite3

from django.core.checks.registry import registry

from logs.checks import MIN_SQLITE_VERSION, sqlite_too_old, sqlite_version_check

SQLITE = "django.db.backends.sqlite3"
POSTGRESQL = "django.db.backends.postgresql"


def test_an_older_sqlite_is_refused_by_name():
    (error,) = sqlite_too_old([POSTGRESQL, SQLITE], (3, 34, 1), "3.34.1")
    assert error.id == "logs.E001"
    assert "SQLite 3.35.0 or later" in error.msg and "SQLite 3.34.1" in error.msg


def test_the_sqlite_it_needs_passes():
    assert sqlite_too_old([SQLITE], MIN_SQLITE_VERSION, "3.35.0") == []


def test_postgresql_alone_needs_no_sqlite():
    assert sqlite_too_old([POSTGRESQL], (3, 8, 0), "3.8.0") == []


def test_the_check_runs_with_djangos_and_reads_this_sqlite(monkeypatch, settings):
    assert sqlite_version_check in registry.get_checks()
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 34, 1))
    monkeypatch.setattr(sqlite3, "sqlite_version", "3.34.1")
    uses_sqlite = any(db["ENGINE"] == SQLITE for db in settings.DATABASES.values())
    assert [error.id for error in sqlite_version_check()] == (["logs.E001"] if uses_sqlite else [])
