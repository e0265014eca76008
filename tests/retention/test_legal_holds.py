"""Legal holds and retention: held events outlive the policy, their neighbours do not, the
chain still verifies, and a released hold's events go in the next run."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from logs.integrity import verify_chain
from logs.models import AccessRecord, AuditEvent, LegalHold
from logs.retention.archive import ArchiveRun
from logs.retention.holds import holds_covering, place_hold, release_hold
from logs.retention.ids import ids_of
from logs.retention.policy import RetentionPolicy
from logs.retention.run import apply_retention
from logs.retention.selection import next_part
from tests.factories import GraphDirectoryAuditFactory
from tests.retention.support import archive_records, manifests, store_events

pytestmark = pytest.mark.django_db


def run(*arguments) -> str:
    out = StringIO()
    call_command("apply_retention", *arguments, stdout=out)
    return out.getvalue()


def legal_hold(*arguments) -> str:
    out = StringIO()
    call_command("legal_hold", *arguments, stdout=out)
    return out.getvalue()


def stored() -> set[str]:
    return set(AuditEvent.objects.values_list("entra_id", flat=True))


def verify_command() -> str:
    out = StringIO()
    call_command("verify_audit_log", stdout=out)
    return out.getvalue()


def test_a_held_event_survives_a_run_that_purges_its_neighbours(archive_dir):
    old = store_events(400, 401, 402, 403, 404)
    recent = store_events(3)
    held = old[2]
    legal_hold("add", "Matter 1", "--reason", "litigation", "--event-id", held)

    output = run("--archive-dir", str(archive_dir), "--batch-size", "1")

    assert stored() == {held, *recent}
    assert "4 events older than 365 days purged" in output
    assert "Legal hold 'Matter 1': 1 expired events kept" in output
    archived = {record["id"] for record in archive_records(archive_dir)}
    assert archived == set(old) - {held}  # neither purged nor archived
    # Purges on both sides of the held event: the chain still verifies, through the command.
    assert verify_command().startswith("OK 2 events")


def test_released_the_events_go_in_the_next_run(archive_dir):
    old = store_events(400, 401, 402)
    legal_hold("add", "Matter 2", "--reason", "litigation", "--event-id", old[1], old[0])
    run("--archive-dir", str(archive_dir))
    assert stored() == {old[0], old[1]}

    legal_hold("release", "Matter 2", "--reason", "settled")
    output = run("--archive-dir", str(archive_dir))

    assert not stored()
    assert "2 events older than 365 days purged" in output
    assert "Legal hold" not in output  # no hold active, none reported
    assert sorted(record["id"] for record in archive_records(archive_dir)) == sorted(old)
    result = verify_chain()
    assert result.ok, result.broken
    assert result.purged == 3


def test_a_hold_on_a_correlation_id_keeps_every_event_of_it(archive_dir):
    now = timezone.now()
    correlation = "5b9e3f64-1d4c-4a7e-9c1b-0f6a2d8e7c31"
    shared = [
        GraphDirectoryAuditFactory(moment=now - timedelta(days=days), correlationId=correlation)
        for days in (500, 450, 400)
    ]
    others = [GraphDirectoryAuditFactory(moment=now - timedelta(days=d)) for d in (480, 420)]
    from logs.ingest.generated import store_generated_records

    assert store_generated_records(shared + others, label="correlated").new == 5
    legal_hold("add", "Incident 7", "--reason", "investigation", "--correlation-id", correlation)

    run("--archive-dir", str(archive_dir), "--batch-size", "1")

    assert stored() == {record["id"] for record in shared}
    assert verify_chain().ok


def test_dry_run_counts_what_each_hold_keeps_and_leaves_it_out(archive_dir):
    now = timezone.now()
    correlation = "0d7c1a52-8e3b-4f0a-b6d9-2c4e5f6a7b80"
    from logs.ingest.generated import store_generated_records

    records = [
        GraphDirectoryAuditFactory(moment=now - timedelta(days=400 + n), correlationId=correlation)
        for n in range(3)
    ]
    assert store_generated_records(records, label="dry run").new == 3
    other = store_events(410, 420)
    store_events(5)
    legal_hold("add", "A", "--reason", "r", "--correlation-id", correlation)
    legal_hold("add", "B", "--reason", "r", "--event-id", records[0]["id"], other[0])

    output = run("--dry-run")

    assert "3 events would be purged" not in output
    assert "1 events would be purged" in output  # five expired, four held
    assert "Legal hold 'A': 3 expired events would be kept" in output
    assert "Legal hold 'B': 2 expired events would be kept" in output
    assert "4 expired events would be kept by legal holds" in output  # one shared by both
    assert AuditEvent.objects.count() == 6


def test_every_run_records_what_each_hold_kept(archive_dir):
    old = store_events(400, 401)
    legal_hold("add", "Kept", "--reason", "r", "--event-id", old[0])
    run("--no-archive")
    record = AccessRecord.objects.get(action=AccessRecord.Action.RETENTION)
    assert record.detail["legal_holds"] == {"Kept": 1}
    assert record.detail["held"] == 1
    assert record.row_count == 1


def test_a_hold_placed_while_a_part_is_archived_keeps_it_from_the_delete(archive_dir):
    """A part is chosen and archived before the previous one is deleted: a hold placed then
    covers an event already in an archive file. The delete leaves it, the manifest says so."""
    old = store_events(400, 401, 402, 403)
    newest_old = old[0]  # the youngest of the old ones: in the second part
    placed = []

    def place_once(purged):
        if not placed:
            placed.append(place_hold("Late", reason="r", event_ids=[newest_old], username="t"))

    result = apply_retention(
        RetentionPolicy(365), archive_dir=archive_dir, part_size=2, batch_size=1,
        on_progress=place_once,
    )  # fmt: skip

    assert stored() == {newest_old}
    assert result.purged == 3
    assert result.held == {"Late": 1}
    (manifest,) = manifests(archive_dir)
    held_pk = AuditEvent.objects.get(entra_id=newest_old).pk
    assert ids_of(manifest["held"]) == [held_pk]
    assert manifest["purged"] == 3
    assert newest_old in {record["id"] for record in archive_records(archive_dir)}
    assert verify_chain().ok

    release_hold("Late", reason="done", username="t")
    run("--archive-dir", str(archive_dir))
    assert not stored()
    assert verify_chain().ok


def test_finishing_a_stopped_run_leaves_what_a_hold_now_covers(archive_dir):
    old = store_events(400, 401, 402)
    policy, now = RetentionPolicy(365), timezone.now()
    stopped = ArchiveRun.create(archive_dir, policy.describe(now), now)
    stopped.write_file(next_part(policy.expired(now), None, 10))  # archived, none deleted
    legal_hold("add", "After the crash", "--reason", "r", "--event-id", old[2])

    run("--archive-dir", str(archive_dir))

    assert stored() == {old[2]}
    finished = ArchiveRun.load(archive_dir, stopped.name)
    assert finished.complete
    assert finished.manifest["purged"] == 2
    assert ids_of(finished.manifest["held"]) == [AuditEvent.objects.get(entra_id=old[2]).pk]
    assert verify_chain().ok


def test_a_hold_whose_filters_no_longer_apply_stops_retention_before_any_delete(archive_dir):
    store_events(400, 401)
    # Written around place_hold, which refuses such filters.
    LegalHold.objects.create(
        name="Broken", reason="r", filters={"result": "nonsense"}, placed_by="x"
    )
    with pytest.raises(CommandError, match="Broken"):
        run("--no-archive")
    with pytest.raises(CommandError, match="Broken"):
        run("--dry-run")
    assert AuditEvent.objects.count() == 2


def test_holds_covering_answers_per_date_range():
    old = store_events(400, 200)
    hold = place_hold("Range", reason="r", event_ids=[old[0]], username="t")
    now = timezone.now()
    assert holds_covering(now - timedelta(days=401), now - timedelta(days=399)) == [hold]
    assert holds_covering(now - timedelta(days=201), now - timedelta(days=199)) == []
    release_hold("Range", reason="done", username="t")
    assert holds_covering(now - timedelta(days=401), now - timedelta(days=399)) == []
