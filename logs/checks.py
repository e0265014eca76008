"""System checks: what auditportal needs of its environment beyond what Django checks itself.

Django 5.2 accepts SQLite from 3.31, but auditportal stores new lookup rows with
``INSERT ... ON CONFLICT DO NOTHING RETURNING`` (``SealedLookup.store``), which SQLite has from
3.35. On an older library migrations would succeed and the first import would fail with a
syntax error; this check says so at ``migrate``, ``runserver`` and every other command instead.
"""

import sqlite3

from django.conf import settings
from django.core.checks import Error, register

MIN_SQLITE_VERSION = (3, 35, 0)


@register()
def sqlite_version_check(app_configs=None, **kwargs) -> list[Error]:
    engines = [database["ENGINE"] for database in settings.DATABASES.values()]
    return sqlite_too_old(engines, sqlite3.sqlite_version_info, sqlite3.sqlite_version)


def sqlite_too_old(engines, version_info: tuple, version: str) -> list[Error]:
    """The error for databases with these ``engines`` on a SQLite library of this version."""
    if "django.db.backends.sqlite3" not in engines or version_info >= MIN_SQLITE_VERSION:
        return []
    needed = ".".join(str(part) for part in MIN_SQLITE_VERSION)
    return [
        Error(
            f"auditportal needs SQLite {needed} or later; this Python's sqlite3 module uses "
            f"SQLite {version}.",
            hint="Use a Python built against a newer SQLite library, or PostgreSQL.",
            id="logs.E001",
        )
    ]
