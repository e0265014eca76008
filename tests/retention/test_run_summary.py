"""What a retention run reports, and the access record an auditor reads afterwards: the purged
events' date range and categories over several parts, the archive's size, what each hold kept,
and a stopped run finished first, to the event."""

import time

import pytest
from django.db import connection
from django.utils import timezone

from logs.models import AccessRecord, AuditEvent
from logs.retention.archive import ArchiveRun
from logs.retention.holds import place_hold
from logs.retention.ids import ids_of
from logs.retention.policy import RetentionPolicy
from logs.retention.run import apply_retention
from logs.retention.selection import next_part
from logs.retention.stores import LocalStore
from tests.retention.support import manifests, store_events

pytestmark = pytest.mark.django_db


def retention_records():
    return list(AccessRecord.objects.filter(action=AccessRecord.Action.RETENTION).order_by("id"))


def test_a_run_over_several_parts_reports_all_of_them(archive_dir):
    store_events(500, 401, category="UserManagement")
    store_events(450, 402, 600, category="GroupManagement")
    kept = store_events(30)
    dates = sorted(AuditEvent.objects.exclude(entra_id__in=kept).values_list("activity_datetime"))
    started = time.perf_counter()

    result = apply_retention(RetentionPolicy(365), archive=archive_dir, part_size=2, batch_size=1)

    elapsed = time.perf_counter() - started
    assert result.purged == 5
    assert (result.oldest, result.newest) == (dates[0][0], dates[-1][0])
    assert result.categories == {"UserManagement": 2, "GroupManagement": 3}
    files = sorted((archive_dir / result.run).glob("events-*.ndjson.zst"))
    assert len(files) == 3
    assert result.archived_bytes == sum(path.stat().st_size for path in files)
    assert 0 < result.seconds <= elapsed
    (manifest,) = manifests(archive_dir)
    assert (manifest["oldest"], manifest["newest"]) == (
        dates[0][0].isoformat(timespec="microseconds"),
        dates[-1][0].isoformat(timespec="microseconds"),
    )
    (record,) = retention_records()
    assert record.row_count == 5
    assert record.detail["files"] == [path.name for path in files]
    assert (record.detail["oldest"], record.detail["newest"]) == (
        dates[0][0].isoformat(),
        dates[-1][0].isoformat(),
    )
    assert record.detail["categories"] == {"UserManagement": 2, "GroupManagement": 3}
    assert 0 < record.detail["seconds"] <= elapsed
    # No legal hold: none kept anything.
    assert (record.detail["legal_holds"], record.detail["held"]) == ({}, 0)
    assert "held_error" not in record.detail


def test_a_run_leaves_the_connection_s_page_cache_as_it_found_it(archive_dir):
    store_events(400, 401)
    if connection.vendor != "sqlite":
        pytest.skip("a SQLite setting")
    connection.ensure_connection()
    connection.connection.execute("PRAGMA cache_size = -3000")

    apply_retention(RetentionPolicy(365), archive=archive_dir)

    assert connection.connection.execute("PRAGMA cache_size").fetchone()[0] == -3000


def test_events_a_hold_placed_mid_run_keeps_are_not_counted_as_purged(archive_dir):
    old = store_events(406, 405, category="UserManagement")
    old += store_events(404, category="GroupManagement")
    old += store_events(403, 402, 401, category="ApplicationManagement")
    late = old[2]  # in the second part, chosen before the hold is placed

    def place_once(purged):
        if purged == 1:
            place_hold("Late", reason="r", event_ids=[late], username="t")

    # Event by event (a whole month on PostgreSQL goes at once; a hold placed before its drop
    # is tested in test_month_partitions.py).
    result = apply_retention(
        RetentionPolicy(365), archive=archive_dir, part_size=2, batch_size=1,
        on_progress=place_once, whole_months=False,
    )  # fmt: skip

    assert list(AuditEvent.objects.values_list("entra_id", flat=True)) == [late]
    assert result.purged == 5
    assert result.categories == {"UserManagement": 2, "ApplicationManagement": 3}
    assert (result.held, result.held_total) == ({"Late": 1}, 1)
    (manifest,) = manifests(archive_dir)
    assert ids_of(manifest["held"]) == [AuditEvent.objects.get().pk]


def test_a_stopped_run_is_finished_first_to_the_event(archive_dir):
    store_events(405, 404, 403, 402)
    policy, now = RetentionPolicy(365), timezone.now()
    stopped = ArchiveRun.create(LocalStore(archive_dir), policy.describe(now), now)
    part = next_part(policy.expired(now), None, 3)
    stopped.write_file(part)  # listed, none of its events deleted yet
    # What a run stopped after writing its next file, before listing it, leaves.
    with stopped.store.open_writer(stopped.name, "events-0002.ndjson.zst") as raw:
        raw.write(b"never listed")
    listed = sorted(event[0] for event in part)

    result = apply_retention(policy, archive=archive_dir, batch_size=1, now=now)

    assert (result.resumed, result.resumed_purged) == ([stopped.name], 3)
    assert sorted(path.name for path in (archive_dir / stopped.name).iterdir()) == [
        "events-0001.ndjson.zst",
        "manifest.json",
    ]
    finished = ArchiveRun.load(archive_dir, stopped.name)
    assert (finished.complete, finished.manifest["purged"]) == (True, 3)
    assert not AuditEvent.objects.filter(id__in=listed).exists()
    assert result.purged == 1  # the fourth event, by this run's own archive
    resumed, own = retention_records()
    assert resumed.row_count == 3
    assert resumed.detail == {
        "run": stopped.name,
        "resumed": True,
        "archive": str(archive_dir / stopped.name),
        "policy": policy.describe(now),
        "archived": 3,
        "purged_now": 3,
        "held": 0,
        "categories": stopped.manifest["categories"],
    }
    assert own.detail["resumed"] == [stopped.name]
    assert own.row_count == 1
