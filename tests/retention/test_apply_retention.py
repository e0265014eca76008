"""apply_retention: dry run, archive first, purge exactly what was archived, one record a run."""

import fcntl
import hashlib
import json
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from logs.ingest.importer import import_file
from logs.integrity import verify_chain
from logs.models import AccessRecord, AuditEvent, ChainCheckpoint
from logs.retention.run import LOCK_NAME
from tests.exports.support import normalised_events
from tests.retention.support import archive_records, manifests, store_events

pytestmark = pytest.mark.django_db


def run(*arguments) -> str:
    out = StringIO()
    call_command("apply_retention", *arguments, stdout=out)
    return out.getvalue()


def test_dry_run_reports_per_category_and_changes_nothing(archive_dir):
    store_events(400, 500, category="UserManagement")
    store_events(450, 10, category="GroupManagement")
    before = list(AuditEvent.objects.values_list("id", flat=True).order_by("id"))

    output = run("--dry-run", "--archive-dir", str(archive_dir))

    assert "GroupManagement: 1 events" in output
    assert "UserManagement: 2 events" in output
    assert "3 events would be purged" in output
    # Dates the one way the portal shows them, the zone said.
    assert re.search(
        r"dated \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC to \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", output
    )
    assert list(AuditEvent.objects.values_list("id", flat=True).order_by("id")) == before
    assert not archive_dir.exists()
    assert not AccessRecord.objects.exists()
    assert not ChainCheckpoint.objects.exists()


def test_a_real_run_needs_an_archive_or_an_explicit_no_archive():
    store_events(400)
    with pytest.raises(CommandError, match=r"--archive-dir DIR .* or --no-archive"):
        run()
    assert AuditEvent.objects.count() == 1


def test_archive_holds_exactly_the_purged_events(archive_dir):
    old = store_events(400, 401, 700)
    kept = store_events(5, 364)
    originals = dict(AuditEvent.objects.values_list("entra_id", "original"))

    output = run("--archive-dir", str(archive_dir), "--batch-size", "2")

    assert "3 events older than 365 days purged" in output
    assert sorted(AuditEvent.objects.values_list("entra_id", flat=True)) == sorted(kept)
    records = archive_records(archive_dir)
    assert sorted(record["id"] for record in records) == sorted(old)
    # Graph records are archived as they were stored, byte for byte.
    for record in records:
        assert record == json.loads(originals[record["id"]])
    (manifest,) = manifests(archive_dir)
    assert manifest["status"] == "complete"
    assert manifest["events"] == manifest["purged"] == 3
    for entry in manifest["files"]:
        data = (archive_dir / manifest["run"] / entry["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    assert sum(manifest["categories"].values()) == 3


def test_overrides_keep_a_category_longer(archive_dir):
    store_events(400, category="UserManagement")
    kept = store_events(400, category="GroupManagement")
    with override_settings(AUDITPORTAL_RETENTION_OVERRIDES="GroupManagement=730"):
        run("--archive-dir", str(archive_dir))
    assert list(AuditEvent.objects.values_list("entra_id", flat=True)) == kept


def test_days_option_replaces_the_default(archive_dir):
    store_events(40, 20)
    run("--days", "30", "--no-archive")
    assert AuditEvent.objects.count() == 1


def test_each_run_leaves_one_access_record(archive_dir):
    store_events(400, 400, 3)
    run("--archive-dir", str(archive_dir))
    record = AccessRecord.objects.get(action=AccessRecord.Action.RETENTION)
    assert record.row_count == 2
    assert record.detail["days"] == 365
    assert record.detail["archive"].startswith(str(archive_dir))
    assert sum(record.detail["categories"].values()) == 2

    run("--no-archive")
    assert AccessRecord.objects.filter(action=AccessRecord.Action.RETENTION).count() == 2


def test_verification_passes_after_retention(archive_dir):
    store_events(400, 3, 401, 2, 402)
    store_events(1, 500)

    run("--archive-dir", str(archive_dir), "--batch-size", "1")

    result = verify_chain()
    assert result.ok, result.broken
    assert result.events == 3
    assert result.purged == 4
    # New events continue the chain after a purge.
    store_events(1)
    assert verify_chain().ok


def test_verification_passes_after_the_newest_events_are_purged(archive_dir):
    store_events(1, 400, 401)
    run("--no-archive")
    store_events(2)
    result = verify_chain()
    assert result.ok, result.broken
    assert result.events == 2


def test_importing_the_archive_reproduces_the_purged_events(archive_dir):
    store_events(400, 401, 402, 403, category="ApplicationManagement")
    store_events(800, category="UserManagement")
    purged = normalised_events()
    originals = dict(AuditEvent.objects.values_list("entra_id", "original"))
    run("--archive-dir", str(archive_dir))
    assert not AuditEvent.objects.exists()

    for path in sorted(archive_dir.rglob("events-*.ndjson.zst")):
        assert import_file(path).ok

    assert normalised_events() == purged
    assert dict(AuditEvent.objects.values_list("entra_id", "original")) == originals


def test_a_run_with_nothing_to_purge_writes_no_archive(archive_dir):
    store_events(3)
    output = run("--archive-dir", str(archive_dir))
    assert "0 events" in output
    assert not archive_dir.exists() or not list(archive_dir.glob("retention-*"))
    assert AccessRecord.objects.get().row_count == 0


def test_two_runs_never_share_an_archive_directory(archive_dir):
    store_events(400)
    archive_dir.mkdir()
    with open(archive_dir / LOCK_NAME, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(CommandError, match="Another apply_retention run is using"):
            run("--archive-dir", str(archive_dir))
    assert AuditEvent.objects.count() == 1
    run("--archive-dir", str(archive_dir))
    assert not AuditEvent.objects.exists()
