"""Several importers at once: the same records arriving through two imports are stored once."""

import threading

import pytest
from django.db import connections

from logs.ingest.importer import import_file
from logs.integrity import verify_chain
from logs.models import AuditEvent
from tests.support import FIXTURES_DIR

SIX_EVENTS_FILE = FIXTURES_DIR / "portal-json" / "AuditLogs_2026-11-02.json"


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_imports_of_the_same_file_at_once_store_it_once():
    start = threading.Barrier(2)
    results, errors = [], []

    def import_it():
        try:
            start.wait()
            results.append(import_file(SIX_EVENTS_FILE))
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=import_it) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert all(result.ok for result in results)
    assert sorted((result.new, result.duplicate) for result in results) == [(0, 6), (6, 0)]
    assert AuditEvent.objects.count() == 6
    assert verify_chain().ok
