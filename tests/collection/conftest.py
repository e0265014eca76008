"""Collection test setup: a Graph origin (another auditportal holding known events) for the
session, and a fault proxy in front of it for each test."""

import pytest

from tests.collection.origin import FaultProxy, known_records, start_origin

# A few hundred events: several pages at the small page size the tests use.
ORIGIN_EVENTS = 240


@pytest.fixture(scope="session")
def origin(tmp_path_factory):
    with start_origin(tmp_path_factory.mktemp("origin"), known_records(ORIGIN_EVENTS)) as started:
        yield started


@pytest.fixture
def proxy(origin):
    started = FaultProxy(origin.url)
    yield started
    started.close()


@pytest.fixture
def collection_settings(settings):
    """Small pages (several per run), and Graph's rate limit raised for speed; tests that check
    the limit set their own."""
    settings.AUDITPORTAL_COLLECTION_PAGE_SIZE = 50
    settings.AUDITPORTAL_COLLECTION_GRAPH_RATE = "1000/1"
    settings.AUDITPORTAL_COLLECTION_RETRIES = 3
    return settings
