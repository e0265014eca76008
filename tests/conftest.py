"""Shared test setup: a switch for PostgreSQL-only tests, the signed-in Audit Reader and the six
real-format sample events. Helpers the tests import are in tests/support.py.

The suite runs on whichever database DATABASE_URL names (SQLite by default); CI runs it twice.
"""

from pathlib import Path

import pytest
from django.db import connection
from rest_framework.test import APIClient

from logs.ingest.importer import import_file

# Azure Storage (Azurite) for the tests that need it: see tests/azurite.py.
from tests.azurite import azurite, blob_container  # noqa: F401
from tests.support import FIXTURES_DIR, SIX_EVENTS_FILE, view_events_permission


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


@pytest.fixture
def reader(django_user_model):
    """A staff user who may only view audit events (no superuser shortcuts)."""
    user = django_user_model.objects.create_user("reader", password="pw-reader-123", is_staff=True)
    user.user_permissions.add(view_events_permission())
    return user


@pytest.fixture
def api(reader):
    """An API client signed in as ``reader``."""
    client = APIClient()
    client.force_login(reader)
    return client


@pytest.fixture
def six_events(db):
    result = import_file(SIX_EVENTS_FILE)
    assert (result.new, result.rejected) == (6, 0)
    return result
