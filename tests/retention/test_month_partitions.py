"""PostgreSQL month partitions: a whole expired month is archived and its partition dropped;
partial months, months a hold reaches into and months a longer override keeps go event by
event; the chain verifies after either."""

from datetime import UTC, datetime

import pytest
from azure.storage.blob import BlobLeaseClient
from django.db import DatabaseError, connection, transaction
from django.test import override_settings

from logs.ingest.generated import store_generated_records
from logs.integrity import verify_chain
from logs.models import AuditEvent, ChainCheckpoint, ModifiedProperty, Target
from logs.partitions import existing_months, partitioned
from logs.retention.holds import place_hold
from logs.retention.ids import ids_of
from logs.retention.months import drop_month, expired_months
from logs.retention.policy import RetentionPolicy
from logs.retention.run import apply_retention
from logs.retention.stores import LOCK_NAME, ArchiveBusyError
from tests.factories import GraphDirectoryAuditFactory
from tests.retention.support import archive_records, manifests

pytestmark = pytest.mark.django_db

# "Now" for every run: a year's retention expires everything before 2024-03-15.
NOW = datetime(2025, 3, 15, 12, tzinfo=UTC)
YEAR = RetentionPolicy(365)


def store_at(*moments, category=None) -> list[str]:
    """Import one Graph record per moment; returns their activity ids."""
    extra = {"category": category} if category else {}
    records = [GraphDirectoryAuditFactory(moment=moment, **extra) for moment in moments]
    result = store_generated_records(records, label="partition test")
    assert result.new == len(records), result.errors
    return [record["id"] for record in records]


def at(year, month, day, hour=12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def partitions() -> set[str]:
    with connection.cursor() as cursor:
        return {f"{month:%Y%m}" for month in existing_months(cursor)}


def stored_ids() -> set[str]:
    return set(AuditEvent.objects.values_list("entra_id", flat=True))


def test_sqlite_keeps_one_table():
    assert partitioned() is (connection.vendor == "postgresql")
    if connection.vendor == "sqlite":
        store_at(at(2024, 1, 5))
        assert expired_months(YEAR, NOW, []) == []


@pytest.mark.postgres_only
def test_whole_expired_months_are_archived_and_dropped(archive_dir):
    january = store_at(at(2024, 1, 3), at(2024, 1, 17), at(2024, 1, 31, 23))
    february = store_at(at(2024, 2, 1, 0), at(2024, 2, 29))
    march_expired = store_at(at(2024, 3, 2))
    kept = store_at(at(2024, 3, 20), at(2025, 3, 1))
    purged_events = list(
        AuditEvent.objects.filter(entra_id__in=january + february).values_list("pk", flat=True)
    )
    assert Target.objects.filter(event_id__in=purged_events).exists()

    result = apply_retention(YEAR, archive_dir=archive_dir, now=NOW, part_size=2)

    assert result.purged == 6
    assert stored_ids() == set(kept)
    assert {"202401", "202402"}.isdisjoint(partitions())
    assert "202403" in partitions()
    # What hung off the dropped months went with them.
    assert not Target.objects.filter(event_id__in=purged_events).exists()
    assert not ModifiedProperty.objects.filter(target__event_id__in=purged_events).exists()
    # Archived exactly as the event-by-event path archives: every purged event, once.
    archived = [record["id"] for record in archive_records(archive_dir)]
    assert sorted(archived) == sorted(january + february + march_expired)
    (manifest,) = manifests(archive_dir)
    assert manifest["status"] == "complete"
    assert manifest["events"] == manifest["purged"] == 6
    # One checkpoint per dropped month, one per batch of the partial month.
    assert ChainCheckpoint.objects.count() == 3
    verification = verify_chain()
    assert verification.ok, verification.broken or verification.derived
    assert verification.purged == 6
    assert verification.events == 2


@pytest.mark.postgres_only
def test_a_month_a_hold_reaches_into_goes_event_by_event(archive_dir):
    january = store_at(at(2024, 1, 3), at(2024, 1, 17), at(2024, 1, 25))
    february = store_at(at(2024, 2, 10))
    place_hold("matter", reason="litigation", event_ids=[january[1]])

    result = apply_retention(YEAR, archive_dir=archive_dir, now=NOW)

    assert result.purged == 3
    assert result.held_total == 1
    assert stored_ids() == {january[1]}
    assert "202401" in partitions()
    assert "202402" not in partitions()
    assert sorted(record["id"] for record in archive_records(archive_dir)) == sorted(
        [january[0], january[2], *february]
    )
    verification = verify_chain()
    assert verification.ok, verification.broken or verification.derived


@pytest.mark.postgres_only
@override_settings(AUDITPORTAL_RETENTION_OVERRIDES="UserManagement=800")
def test_a_longer_override_keeps_months_out_of_the_whole_month_path(archive_dir):
    kept = store_at(at(2024, 1, 3), category="UserManagement")
    expired = store_at(at(2024, 1, 5), category="GroupManagement")
    policy = RetentionPolicy.from_settings(days=365)

    assert expired_months(policy, NOW, []) == []
    result = apply_retention(policy, archive_dir=archive_dir, now=NOW)

    assert result.purged == 1
    assert stored_ids() == set(kept)
    assert "202401" in partitions()
    assert [record["id"] for record in archive_records(archive_dir)] == expired
    assert verify_chain().ok


@pytest.mark.postgres_only
def test_a_month_is_not_dropped_unless_it_holds_exactly_what_was_archived():
    (first_id, _) = store_at(at(2024, 1, 3), at(2024, 1, 4))
    ids = sorted(AuditEvent.objects.values_list("pk", flat=True))
    (month, name) = expired_months(YEAR, NOW, [])[0], "logs_auditevent_p202401"
    assert month == (datetime(2024, 1, 1).date(), name)

    # An event stored after the month was archived (an import of old records) is not lost.
    assert drop_month(name, ids[:1], "test run", list) is False
    assert "202401" in partitions()
    assert AuditEvent.objects.count() == 2
    # Nor one a hold placed since it was chosen reaches into.
    hold = place_hold("late", reason="placed mid-run", event_ids=[first_id])
    assert drop_month(name, ids, "test run", lambda: [hold]) is False
    assert AuditEvent.objects.count() == 2
    assert drop_month(name, ids, "test run", list) is True
    assert AuditEvent.objects.count() == 0
    assert verify_chain().ok


@pytest.mark.postgres_only
def test_a_month_without_a_partition_gets_one_when_its_first_event_is_stored():
    assert "201903" not in partitions()
    store_at(at(2019, 3, 8))
    assert "201903" in partitions()
    assert AuditEvent.objects.filter(activity_datetime__year=2019).count() == 1


@pytest.mark.postgres_only
def test_the_same_id_is_refused_in_another_month():
    (record,) = [GraphDirectoryAuditFactory(moment=at(2024, 1, 3))]
    assert store_generated_records([record], label="first").new == 1
    moved = {**record, "activityDateTime": "2024-05-03T12:00:00Z"}
    again = store_generated_records([dict(record), moved], label="second")
    # The first is a duplicate, the second a conflict (same id, other content): neither stored.
    assert (again.new, again.duplicate) == (0, 1)
    stored = AuditEvent.objects.filter(entra_id=record["id"]).values_list(
        "activity_datetime", flat=True
    )
    assert list(stored) == [at(2024, 1, 3)]


@pytest.mark.postgres_only
def test_the_database_refuses_a_second_row_with_the_same_id_and_date():
    store_at(at(2024, 1, 3))
    columns = [
        field.column
        for field in AuditEvent._meta.concrete_fields
        if field.column not in ("id", "chain_seq", "chain_link")
    ]
    listed = ", ".join(columns)
    with (
        pytest.raises(DatabaseError, match="entra_id"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            f"INSERT INTO logs_auditevent ({listed}) SELECT {listed} FROM logs_auditevent"
        )


@pytest.mark.postgres_only
def test_a_partition_refuses_deletes_and_updates_named_directly():
    store_at(at(2024, 1, 3))
    for statement in (
        "DELETE FROM logs_auditevent_p202401",
        "UPDATE logs_auditevent_p202401 SET result = 'failure'",
    ):
        with (
            pytest.raises(DatabaseError, match="immutable"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert AuditEvent.objects.count() == 1


@pytest.mark.postgres_only
def test_a_run_that_loses_its_lease_just_before_a_month_drop_drops_nothing(azurite, blob_container):
    """The lease on a container archive is checked under the chain lock, after the month's
    rows are compared with what was archived and before anything is deleted: lost there, the
    partition, its events and what hangs off them all stay; the next run finishes the month
    from the listed files, and the chain verifies."""
    january = store_at(at(2024, 1, 3), at(2024, 1, 17))
    kept = store_at(at(2025, 3, 1))
    url = azurite.url(blob_container, "archive")
    lock = azurite.service().get_blob_client(blob_container, f"archive/{LOCK_NAME}")
    january_pks = list(AuditEvent.objects.filter(entra_id__in=january).values_list("pk", flat=True))
    targets_before = Target.objects.filter(event_id__in=january_pks).count()
    broken = []

    def break_the_lease_at_the_drop(execute, sql, params, many, context):
        # The drop's first statement reads the partition's ids; the lease is checked next.
        if sql.startswith("SELECT id FROM logs_auditevent_p202401") and not broken:
            BlobLeaseClient(lock).break_lease(lease_break_period=0)
            broken.append(sql)
        return execute(sql, params, many, context)

    with (
        connection.execute_wrapper(break_the_lease_at_the_drop),
        pytest.raises(ArchiveBusyError, match="lost its lease"),
    ):
        apply_retention(YEAR, archive=url, now=NOW)

    assert broken, "the run never reached the month's drop"
    assert "202401" in partitions()
    assert stored_ids() == set(january + kept)
    assert Target.objects.filter(event_id__in=january_pks).count() == targets_before
    assert not ChainCheckpoint.objects.exists()
    assert verify_chain().ok

    # The next run takes the lease, finishes the stopped run from its listed file, and the
    # month's events go; nothing is archived twice.
    result = apply_retention(YEAR, archive=url, now=NOW)
    assert result.resumed and result.resumed_purged == 2
    assert stored_ids() == set(kept)
    assert not Target.objects.filter(event_id__in=january_pks).exists()
    verification = verify_chain()
    assert verification.ok, verification.broken or verification.derived
    assert verification.purged == 2


@pytest.mark.postgres_only
def test_a_hold_placed_after_its_month_was_archived_keeps_the_event_from_the_drop(archive_dir):
    """The month was chosen whole and archived; a hold placed before its drop reaches into it.
    The partition stays, the rest of the month goes event by event, and the manifest and the
    summary say which event was kept."""
    (early,) = store_at(at(2024, 1, 3), category="UserManagement")
    rest_of_january = store_at(at(2024, 1, 17), at(2024, 1, 25), category="GroupManagement")
    february = store_at(at(2024, 2, 10), category="GroupManagement")
    placed = []

    def place_once(purged):
        # The first part (the first two events of January) is archived and waits for its
        # month's drop, which comes only once the next part has been read.
        if not placed:
            placed.append(place_hold("Late", reason="r", event_ids=[early], username="t"))

    result = apply_retention(
        YEAR, archive_dir=archive_dir, now=NOW, part_size=2, on_progress=place_once
    )

    assert placed
    assert stored_ids() == {early}
    assert result.purged == 3
    assert "202401" in partitions()
    assert "202402" not in partitions()
    (manifest,) = manifests(archive_dir)
    assert ids_of(manifest["held"]) == [AuditEvent.objects.get(entra_id=early).pk]
    assert manifest["purged"] == 3
    archived = sorted(record["id"] for record in archive_records(archive_dir))
    assert archived == sorted([early, *rest_of_january, *february])
    # The summary counts what went: the held event's category and date are not in it.
    assert result.categories == {"GroupManagement": 3}
    assert result.oldest == at(2024, 1, 17)
    verification = verify_chain()
    assert verification.ok, verification.broken or verification.derived
