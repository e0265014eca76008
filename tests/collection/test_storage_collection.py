"""Collection from a storage account a diagnostic setting archives to, on Azurite: append blobs
that grow between runs, a last line not yet complete, a new hour's blob, a bad line, a collector
killed mid-blob, and two collectors at once."""

import gzip
import json
import random
import signal
import time
from datetime import UTC, datetime, timedelta

import pytest
from azure.storage.blob import ContentSettings

from logs.collection.collect import collect_source
from logs.models import AccessRecord, AuditEvent, CollectedBlob, CollectionSource, ImportBatch
from tests.azurite import KEY
from tests.collection.origin import known_records
from tests.collection.stored import all_rows, stored_ids, wait_for_events
from tests.processes import ProcessDatabase, manage, start_manage

TENANT = "11111111-2222-4333-8444-555555555555"


def monitor_line(record: dict) -> bytes:
    """A record as a diagnostic setting writes it: Azure Monitor's columns around the Graph
    record in ``properties``, as in fixtures/azure-monitor/insights-logs-auditlogs-PT1H.json."""
    initiator = record.get("initiatedBy") or {}
    who = (initiator.get("user") or initiator.get("app") or {}).get("displayName") or ""
    envelope = {
        "time": record["activityDateTime"],
        "resourceId": f"/tenants/{TENANT}/providers/Microsoft.aadiam",
        "operationName": record["activityDisplayName"],
        "operationVersion": "1.0",
        "category": "AuditLogs",
        "tenantId": TENANT,
        "resultSignature": "None",
        "durationMs": 0,
        "callerIpAddress": "203.0.113.24",
        "correlationId": record["correlationId"],
        "identity": who,
        "Level": 4,
        "properties": record,
    }
    return json.dumps(envelope).encode() + b"\n"


def hour_blob(hours_ago: int) -> str:
    moment = datetime.now(UTC) - timedelta(hours=hours_ago)
    return (
        f"tenantId={TENANT}/y={moment:%Y}/m={moment:%m}/d={moment:%d}/h={moment:%H}/m=00/PT1H.json"
    )


class Archive:
    """The container a diagnostic setting writes to, with append blobs."""

    def __init__(self, azurite, container: str):
        self.container = azurite.service().get_container_client(container)

    def append(self, name: str, data: bytes) -> None:
        blob = self.container.get_blob_client(name)
        if not blob.exists():
            blob.create_append_blob()
        if data:
            blob.append_block(data)


@pytest.fixture
def archive(azurite, monkeypatch):
    monkeypatch.setenv("ARCHIVE_KEY", KEY)
    return Archive(azurite, azurite.new_container())


@pytest.fixture
def storage_source(archive, azurite):
    return CollectionSource.objects.create(
        name="diagnostics",
        kind="storage",
        account_url=azurite.account_url,
        credential_env="ARCHIVE_KEY",
        container=archive.container.container_name,
    )


def ids() -> list[str]:
    return sorted(AuditEvent.objects.values_list("entra_id", flat=True))


@pytest.mark.django_db
def test_appended_lines_are_read_once_and_a_partial_line_waits(archive, storage_source):
    records = known_records(200, prefix="blob")
    lines = [monitor_line(record) for record in records]
    older, newer = hour_blob(2), hour_blob(1)
    archive.append(older, b"".join(lines[:100]))
    first = collect_source(storage_source)
    assert first.ok, first.errors
    assert ids() == sorted(r["id"] for r in records[:100])

    # The hour's blob grows, its last line half written.
    half = len(lines[150]) // 2
    archive.append(older, b"".join(lines[100:150]) + lines[150][:half])
    second = collect_source(CollectionSource.objects.get(pk=storage_source.pk))
    assert (second.new, second.duplicate) == (50, 0), second.errors
    offset = CollectedBlob.objects.get(name=older).offset
    assert offset == sum(len(line) for line in lines[:150])

    # The line is completed, and the next hour's blob appears.
    archive.append(older, lines[150][half:] + b"".join(lines[151:170]))
    archive.append(newer, b"".join(lines[170:]))
    third = collect_source(CollectionSource.objects.get(pk=storage_source.pk))
    assert (third.new, third.duplicate) == (50, 0), third.errors
    assert ids() == sorted(r["id"] for r in records)
    assert AuditEvent.objects.filter(source_format="azure-monitor").count() == 200
    run = ImportBatch.objects.filter(collection_source=storage_source).first()
    assert run.status == ImportBatch.Status.COMPLETED and run.records_new == 50


@pytest.mark.django_db
def test_a_bad_line_stops_there_with_its_blob_and_line(archive, storage_source, settings):
    settings.AUDITPORTAL_COLLECTION_BLOB_CHUNK_BYTES = 20_000
    records = known_records(30, prefix="bad")
    lines = [monitor_line(record) for record in records]
    broken = json.loads(lines[20])
    broken["properties"]["activityDateTime"] = "yesterday"
    broken["time"] = "yesterday"
    lines[20] = json.dumps(broken).encode() + b"\n"
    name = hour_blob(1)
    archive.append(name, b"".join(lines))
    result = collect_source(storage_source)
    assert not result.ok and result.rejected == 1
    assert f"diagnostics, blob {name} from byte" in result.errors[0]
    assert "field properties.activityDateTime" in result.errors[0]
    # The chunks before the bad line are stored; the offset stops at the start of its chunk.
    stored = AuditEvent.objects.count()
    assert 0 < stored <= 20
    offset = CollectedBlob.objects.get(name=name).offset
    assert offset == sum(len(line) for line in lines[:stored])
    again = collect_source(CollectionSource.objects.get(pk=storage_source.pk))
    assert not again.ok and AuditEvent.objects.count() == stored


@pytest.mark.django_db
def test_conflicts_and_notes_are_reported_by_the_run(archive, storage_source):
    """A record whose id arrives again with other content is a conflict: reported by the run,
    its batch and its access record, the first version kept; the run still succeeds. A record
    that needed a normalisation note is counted as such."""
    records = known_records(10, prefix="conflict")
    name = hour_blob(1)
    archive.append(name, b"".join(monitor_line(record) for record in records))
    assert collect_source(storage_source).ok
    changed = {**records[3], "activityDisplayName": "Something else entirely"}
    noted = dict(known_records(11, prefix="conflict")[10])
    noted["result"] = "partly"  # outside Graph's enum: kept as unknown, with a note
    archive.append(name, monitor_line(changed) + monitor_line(noted))
    result = collect_source(CollectionSource.objects.get(pk=storage_source.pk))
    assert result.ok, result.errors
    assert (result.read, result.new, result.conflict, result.with_notes) == (2, 1, 1, 1)
    assert "1 conflicting" in result.summary() and "1 stored with notes" in result.summary()
    assert records[3]["id"] in result.conflicts[0] and f"blob {name}" in result.conflicts[0]
    kept = AuditEvent.objects.get(entra_id=records[3]["id"])
    assert kept.activity.name == records[3]["activityDisplayName"]
    batch = ImportBatch.objects.filter(collection_source=storage_source).first()
    assert (batch.records_conflicting, batch.records_with_notes) == (1, 1)
    assert records[3]["id"] in batch.error
    access = AccessRecord.objects.filter(action=AccessRecord.Action.COLLECT).first()
    assert (access.detail["conflicting"], access.detail["with_notes"]) == (1, 1)
    source = CollectionSource.objects.get(pk=storage_source.pk)
    assert source.last_error == "" and source.last_success_at is not None


@pytest.mark.django_db
def test_a_missing_container_is_a_located_error(azurite, monkeypatch):
    monkeypatch.setenv("ARCHIVE_KEY", KEY)
    source = CollectionSource.objects.create(
        name="nowhere",
        kind="storage",
        account_url=azurite.account_url,
        credential_env="ARCHIVE_KEY",
        container="no-such-container",
    )
    result = collect_source(source)
    assert not result.ok
    assert "nowhere" in result.errors[0] and "no-such-container" in result.errors[0]


@pytest.fixture
def storage_process(tmp_path, archive, azurite, transactional_db):
    CollectionSource.objects.create(
        name="diagnostics",
        kind="storage",
        account_url=azurite.account_url,
        credential_env="ARCHIVE_KEY",
        container=archive.container.container_name,
    )
    return ProcessDatabase.of_test_database(tmp_path)


ENVIRONMENT = {"ARCHIVE_KEY": KEY, "AUDITPORTAL_COLLECTION_BLOB_CHUNK_BYTES": "1500"}


def test_killed_mid_blob_then_run_again_stores_each_id_once(archive, storage_process):
    records = known_records(400, prefix="kill")
    archive.append(hour_blob(1), b"".join(monitor_line(record) for record in records))
    collector = start_manage(storage_process, "collect_audit_logs", **ENVIRONMENT)
    try:
        stored = wait_for_events(storage_process, collector, at_least=1)
        time.sleep(random.uniform(0, 0.2))
        collector.send_signal(signal.SIGKILL)
        collector.wait(timeout=30)
    finally:
        if collector.poll() is None:
            collector.kill()
    assert 0 < stored < len(records)
    assert storage_process.count_events() < len(records), "killed too late to test anything"
    again = manage(storage_process, "collect_audit_logs", **ENVIRONMENT)
    assert again.returncode == 0, again.stderr
    assert stored_ids(storage_process) == sorted(record["id"] for record in records)
    verified = manage(storage_process, "verify_audit_log")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_two_collectors_at_once_on_one_account(archive, storage_process):
    records = known_records(200, prefix="twice")
    archive.append(hour_blob(2), b"".join(monitor_line(r) for r in records[:100]))
    archive.append(hour_blob(1), b"".join(monitor_line(r) for r in records[100:]))
    collectors = [start_manage(storage_process, "collect_audit_logs", **ENVIRONMENT) for _ in "ab"]
    for collector in collectors:
        _, errors = collector.communicate(timeout=300)
        assert collector.returncode == 0, errors
    assert stored_ids(storage_process) == sorted(record["id"] for record in records)
    new = all_rows(storage_process, "SELECT SUM(records_new) FROM logs_importbatch")[0][0]
    assert new == len(records)


@pytest.mark.django_db
def test_a_blob_stored_with_a_content_encoding_is_refused_and_its_offset_kept(
    archive, storage_source
):
    """The Azure SDK unpacked such a blob: its offset, counted in unpacked bytes, passed the
    blob's size, and whatever was appended later was never read."""
    lines = b"".join(monitor_line(record) for record in known_records(5, prefix="gz"))
    name = hour_blob(1)
    blob = archive.container.get_blob_client(name)
    blob.create_append_blob(content_settings=ContentSettings(content_encoding="gzip"))
    blob.append_block(gzip.compress(lines))

    result = collect_source(storage_source)

    assert not result.ok
    assert f"diagnostics, blob {name}: stored with Content-Encoding gzip" in result.errors[0]
    assert AuditEvent.objects.count() == 0
    assert not CollectedBlob.objects.filter(name=name, offset__gt=0).exists()
