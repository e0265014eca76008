"""How a purge batch treats the SQLite connection it runs on."""

import pytest
from django.db import connection

from logs.models import AuditEvent
from logs.retention import purge
from tests.retention.support import store_events

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="a SQLite setting"),
]


def _secure_delete() -> int:
    return connection.connection.execute("PRAGMA secure_delete").fetchone()[0]


@pytest.mark.parametrize("before", ["OFF", "ON", "FAST"])
def test_a_purge_deletes_with_fast_secure_delete_and_restores_the_setting(before, monkeypatch):
    store_events(400, 401)
    connection.ensure_connection()
    connection.connection.execute(f"PRAGMA secure_delete = {before}")
    expected_after = _secure_delete()
    during = []
    record_checkpoint = purge.record_checkpoint

    def checkpoint_noting_the_setting(*arguments):
        during.append(_secure_delete())
        return record_checkpoint(*arguments)

    monkeypatch.setattr(purge, "record_checkpoint", checkpoint_noting_the_setting)
    ids = list(AuditEvent.objects.values_list("id", flat=True))

    assert purge.purge_batch(ids, "test-run") == 2

    assert during == [2]  # FAST
    assert _secure_delete() == expected_after
    assert not AuditEvent.objects.exists()
