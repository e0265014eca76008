"""Outside a transaction (as the command runs) the archive's records are read on the writer
thread's own connection, beside the deletes: the same archive, part by part.

On PostgreSQL: the SQLite test database is in memory, where a second connection would wait
for the first (the crash-recovery tests run the command on SQLite files)."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from logs.models import AuditEvent
from logs.retention.policy import RetentionPolicy
from logs.retention.run import apply_retention, can_read_beside
from tests.retention.support import archive_records, manifests, store_events

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]


def test_parts_read_beside_the_deletes_hold_exactly_the_purged_events(tmp_path):
    old = store_events(*range(400, 423))
    kept = store_events(3, 4)
    originals = dict(AuditEvent.objects.values_list("entra_id", "original"))
    assert can_read_beside()

    result = apply_retention(
        RetentionPolicy(365), archive_dir=tmp_path, batch_size=4, part_size=5, now=timezone.now()
    )

    assert result.purged == len(old)
    assert sorted(AuditEvent.objects.values_list("entra_id", flat=True)) == sorted(kept)
    (manifest,) = manifests(tmp_path)
    assert [entry["events"] for entry in manifest["files"]] == [5, 5, 5, 5, 3]
    records = archive_records(tmp_path)
    assert sorted(record["id"] for record in records) == sorted(old)
    for record in records:
        assert record == json.loads(originals[record["id"]])
    # Oldest first across the files, as the parts were taken.
    dates = [record["activityDateTime"] for record in records]
    assert dates == sorted(dates)
    assert timezone.now() - timedelta(days=365) > result.newest
