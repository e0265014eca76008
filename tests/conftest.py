"""Shared test setup: paths to the real sample files and a switch for PostgreSQL-only tests.

The suite runs on whichever database DATABASE_URL names (SQLite by default); CI runs it twice.
"""

from pathlib import Path

import pytest
from django.db import connection

# Azure Storage (Azurite) for the tests that need it: see tests/azurite.py.
from tests.azurite import azurite, blob_container  # noqa: F401

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures"


def pytest_collection_modifyitems(config, items):
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (run with DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES_DIR
