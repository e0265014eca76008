"""Admin test setup: the fixture files imported, and ``reader`` (tests/conftest.py) signed in."""

import pytest

from logs.ingest.importer import import_file
from tests.support import FIXTURES_DIR


@pytest.fixture
def imported(db):
    """The portal-JSON and Graph fixtures: eight events with known values."""
    for path in [
        "portal-json/AuditLogs_2026-11-02.json",
        "graph/graph-docs-list-example1.json",
        "graph/graph-docs-list-example2.json",
    ]:
        assert import_file(FIXTURES_DIR / path).ok


@pytest.fixture
def reader_client(client, reader):
    client.force_login(reader)
    return client
