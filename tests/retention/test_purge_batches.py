"""A purge batch: what it deletes with its events, what it records, and how it holds the chain
against imports while it works."""

import threading
import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections, transaction

from logs.hash_chain import lock_chain
from logs.integrity import verify_chain
from logs.models import Annotation, AuditEvent, ChainCheckpoint
from logs.retention import purge
from logs.retention.policy import RetentionPolicy
from tests.retention.support import store_events


@pytest.mark.django_db
def test_an_empty_batch_deletes_nothing_and_records_nothing():
    store_events(400)
    assert purge.purge_batch([], "run") == 0
    assert AuditEvent.objects.count() == 1
    assert not ChainCheckpoint.objects.exists()


@pytest.mark.django_db
def test_an_events_annotations_go_with_it():
    store_events(400, 401)
    annotated, kept = AuditEvent.objects.order_by("id")
    for event in (annotated, kept):
        Annotation.objects.create(event=event, kind="informational", text="t", source="test")

    assert purge.purge_batch([annotated.pk], "run") == 1

    assert list(Annotation.objects.values_list("event_id", flat=True)) == [kept.pk]
    result = verify_chain()
    assert result.ok, result.broken


@pytest.mark.django_db
@pytest.mark.parametrize("days", [1, 2])
def test_a_single_day_is_the_shortest_retention(settings, days):
    settings.AUDITPORTAL_RETENTION_OVERRIDES = f"UserManagement={days}"
    policy = RetentionPolicy.from_settings(days=days)
    assert (policy.default_days, policy.overrides) == (days, {"UserManagement": days})


@pytest.mark.django_db
def test_no_day_at_all_is_refused(settings):
    with pytest.raises(ImproperlyConfigured, match="must be at least 1 day, not 0"):
        RetentionPolicy.from_settings(days=0)
    settings.AUDITPORTAL_RETENTION_OVERRIDES = "UserManagement=0"
    with pytest.raises(ImproperlyConfigured, match="UserManagement must be at least 1 day"):
        RetentionPolicy.from_settings(days=30)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_purge_commits_without_waiting_for_the_disk(monkeypatch):
    """The archive holds the batch already: a commit lost to a crash only brings it back."""
    store_events(400)
    during = []
    record_checkpoint = purge.record_checkpoint

    def noting_the_setting(*arguments):
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            during.append(cursor.fetchone()[0])
        return record_checkpoint(*arguments)

    monkeypatch.setattr(purge, "record_checkpoint", noting_the_setting)
    with transaction.atomic():
        purge.purge_batch(list(AuditEvent.objects.values_list("id", flat=True)), "run")
        assert during == ["off"]
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"  # for that transaction only


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_purge_waits_for_an_import_holding_the_chain():
    store_events(400)
    ids = list(AuditEvent.objects.values_list("id", flat=True))
    locked, release, purged = threading.Event(), threading.Event(), []

    def importing():
        with transaction.atomic():
            lock_chain()
            locked.set()
            release.wait(30)
        connections.close_all()

    def purging():
        purged.append(purge.purge_batch(ids, "run"))
        connections.close_all()

    importer = threading.Thread(target=importing)
    importer.start()
    assert locked.wait(30)
    purger = threading.Thread(target=purging)
    purger.start()
    time.sleep(1)
    assert purged == []  # still waiting for the chain
    release.set()
    importer.join(30)
    purger.join(30)
    assert purged == [1]
