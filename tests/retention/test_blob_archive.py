"""Retention archives in an Azure Storage container, against Azurite: the same files and
manifest as a folder gets, written once each, two runs kept apart by a lease, and
``import_audit_logs`` reads the archive back."""

import hashlib
import json
from io import StringIO

import pytest
import zstandard
from azure.storage.blob import BlobLeaseClient
from django.core.management import CommandError, call_command

from logs.integrity import verify_chain
from logs.models import AccessRecord, AuditEvent, ImportBatch
from logs.retention.blob_store import parse_archive_url
from logs.retention.holds import place_hold
from logs.retention.stores import LOCK_NAME, ArchiveStoreError
from tests.azurite import KEY
from tests.exports.support import normalised_events
from tests.retention.support import decompressed, store_events

pytestmark = pytest.mark.django_db


def run(*arguments) -> str:
    out = StringIO()
    call_command("apply_retention", *arguments, stdout=out)
    return out.getvalue()


def blobs(azurite, container) -> dict[str, bytes]:
    client = azurite.service().get_container_client(container)
    return {
        blob.name: client.download_blob(blob.name).readall()
        for blob in client.list_blobs()
        if not blob.name.endswith(LOCK_NAME)
    }


def test_the_container_gets_the_files_and_manifest_a_folder_gets(azurite, blob_container):
    old = store_events(400, 401, 402)
    kept = store_events(3)
    originals = dict(AuditEvent.objects.values_list("entra_id", "original"))
    url = azurite.url(blob_container, "archive")

    output = run("--archive-url", url, "--batch-size", "2")

    assert "3 events older than 365 days purged" in output
    assert url in output
    assert list(AuditEvent.objects.values_list("entra_id", flat=True)) == kept
    stored = blobs(azurite, blob_container)
    (manifest_name,) = [name for name in stored if name.endswith("/manifest.json")]
    manifest = json.loads(stored[manifest_name])
    run_name = manifest["run"]
    assert manifest_name == f"archive/{run_name}/manifest.json"
    assert manifest["status"] == "complete"
    assert manifest["events"] == manifest["purged"] == 3
    (entry,) = manifest["files"]
    data = stored[f"archive/{run_name}/{entry['name']}"]
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    assert len(data) == entry["bytes"]
    records = [json.loads(line) for line in decompressed(data).splitlines()]
    assert sorted(record["id"] for record in records) == sorted(old)
    for record in records:
        assert record == json.loads(originals[record["id"]])
    # The file's entry, written once beside it when it was listed, and the first manifest.
    assert json.loads(stored[f"archive/{run_name}/events-0001.json"]) == entry
    assert json.loads(stored[f"archive/{run_name}/run.json"])["status"] == "archiving"
    record = AccessRecord.objects.get(action=AccessRecord.Action.RETENTION)
    assert record.detail["archive"] == f"{url}/{run_name}"
    assert record.detail["files"] == ["events-0001.ndjson.zst"]
    assert KEY not in json.dumps(record.detail)


def test_archived_purged_and_imported_back_the_same_events(azurite, blob_container):
    store_events(400, 401, 402, 403, category="ApplicationManagement")
    store_events(800, category="UserManagement")
    held = store_events(500)
    place_hold("Kept", reason="r", event_ids=held, username="t")
    purged = [event for event in normalised_events() if event[0] not in held]
    url = azurite.url(blob_container, "a/b")
    run("--archive-url", url, "--batch-size", "2")
    assert list(AuditEvent.objects.values_list("entra_id", flat=True)) == held

    out = StringIO()
    call_command("import_audit_logs", url, stdout=out, stderr=StringIO())

    assert "1 file(s): 5 read, 5 new, 0 duplicate, 0 rejected" in out.getvalue()
    assert [event for event in normalised_events() if event[0] not in held] == purged
    result = verify_chain()
    assert result.ok, result.broken
    batch = ImportBatch.objects.get(file_name__endswith=".ndjson.zst")
    assert batch.file_name.startswith(url + "/retention-")


def test_a_run_named_in_the_url_is_imported_alone(azurite, blob_container):
    url = azurite.url(blob_container)
    first = store_events(400)
    run("--archive-url", url)
    second = store_events(401)
    run("--archive-url", url)
    names = sorted({name.split("/")[0] for name in blobs(azurite, blob_container)})
    assert len(names) == 2

    call_command("import_audit_logs", f"{url}/{names[1]}", stdout=StringIO(), stderr=StringIO())
    assert list(AuditEvent.objects.values_list("entra_id", flat=True)) == second
    call_command("import_audit_logs", url, stdout=StringIO(), stderr=StringIO())
    assert sorted(AuditEvent.objects.values_list("entra_id", flat=True)) == sorted(first + second)


def test_a_file_that_differs_from_its_manifest_is_not_imported(azurite, blob_container):
    store_events(400)
    url = azurite.url(blob_container)
    run("--archive-url", url)
    client = azurite.service().get_container_client(blob_container)
    (name,) = [blob.name for blob in client.list_blobs() if blob.name.endswith(".ndjson.zst")]
    data = client.download_blob(name).readall()
    # Still a readable file of the same records, one blank line more: not what was listed.
    tampered = zstandard.ZstdCompressor().compress(decompressed(data) + b"\n")
    client.upload_blob(name, tampered, overwrite=True)

    with pytest.raises(CommandError, match="1 file\\(s\\) failed"):
        call_command("import_audit_logs", url, stdout=StringIO(), stderr=StringIO())
    assert not AuditEvent.objects.exists()


def test_a_second_run_waits_for_the_lease(azurite, blob_container):
    store_events(400)
    url = azurite.url(blob_container, "archive")
    client = azurite.service().get_container_client(blob_container)
    lock = client.get_blob_client(f"archive/{LOCK_NAME}")
    lock.upload_blob(b"")
    lease = BlobLeaseClient(lock)
    lease.acquire(lease_duration=15)

    with pytest.raises(CommandError, match="Another apply_retention run is using"):
        run("--archive-url", url)
    assert AuditEvent.objects.count() == 1

    lease.release()
    run("--archive-url", url)
    assert not AuditEvent.objects.exists()
    # The run let go of its lease: a third may take it at once.
    BlobLeaseClient(lock).acquire(lease_duration=15)


def test_the_credential_comes_from_the_named_environment_variable(
    azurite, blob_container, monkeypatch
):
    store_events(400)
    url = azurite.url(blob_container)
    monkeypatch.delenv("AUDITPORTAL_ARCHIVE_CREDENTIAL")
    with pytest.raises(CommandError, match="AUDITPORTAL_ARCHIVE_CREDENTIAL is not set"):
        run("--archive-url", url)
    monkeypatch.setenv("ARCHIVE_KEY", "bm90IHRoZSBrZXk=")
    with pytest.raises(CommandError, match="cannot"):
        run("--archive-url", url, "--archive-credential-env", "ARCHIVE_KEY")
    assert AuditEvent.objects.count() == 1

    monkeypatch.setenv("ARCHIVE_KEY", KEY)
    run("--archive-url", url, "--archive-credential-env", "ARCHIVE_KEY")
    assert not AuditEvent.objects.exists()


def test_a_sas_token_is_a_credential_too(azurite, blob_container, monkeypatch):
    from datetime import UTC, datetime, timedelta

    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    token = generate_container_sas(
        "devstoreaccount1",
        blob_container,
        account_key=KEY,
        permission=ContainerSasPermissions(
            read=True, add=True, create=True, write=True, list=True, delete=True
        ),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )
    monkeypatch.setenv("AUDITPORTAL_ARCHIVE_CREDENTIAL", token)
    store_events(400)
    run("--archive-url", azurite.url(blob_container))
    assert not AuditEvent.objects.exists()


def test_a_missing_container_is_an_error_that_deletes_nothing(azurite, monkeypatch):
    monkeypatch.setenv("AUDITPORTAL_ARCHIVE_CREDENTIAL", KEY)
    store_events(400)
    with pytest.raises(CommandError, match="does the container exist"):
        run("--archive-url", azurite.url("no-such-container"))
    assert AuditEvent.objects.count() == 1


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://acct.blob.core.windows.net/c/p?sv=2024&sig=abc", "must not carry a query"),
        ("http://acct.blob.core.windows.net/container", "must use https"),
        ("https://user:pw@acct.blob.core.windows.net/container", "user name or password"),
        ("https://acct.blob.core.windows.net/", "No container"),
        ("https://acct.blob.core.windows.net/Bad_Name", "not a container name"),
    ],
)
def test_urls_that_are_refused(url, message):
    with pytest.raises(ArchiveStoreError, match=message):
        parse_archive_url(url)
    store_events(400)
    with pytest.raises(CommandError, match=message):
        run("--archive-url", url)
    assert AuditEvent.objects.count() == 1


def test_urls_name_account_container_and_prefix():
    assert parse_archive_url("https://acct.blob.core.windows.net/logs/eu/archive/") == (
        "https://acct.blob.core.windows.net",
        "acct",
        "logs",
        "eu/archive/",
    )
    assert parse_archive_url("http://127.0.0.1:10000/devstoreaccount1/logs") == (
        "http://127.0.0.1:10000/devstoreaccount1",
        "devstoreaccount1",
        "logs",
        "",
    )


def test_a_stopped_run_in_the_container_is_reported_then_finished(azurite, blob_container):
    from django.utils import timezone

    from logs.retention.archive import ArchiveRun
    from logs.retention.policy import RetentionPolicy
    from logs.retention.selection import next_part
    from logs.retention.stores import open_store

    old = store_events(400, 401)
    url = azurite.url(blob_container, "archive")
    policy, now = RetentionPolicy(365), timezone.now()
    stopped = ArchiveRun.create(open_store(url), policy.describe(now), now)
    stopped.write_file(next_part(policy.expired(now), None, 10))  # listed, none deleted

    assert "was stopped before it finished" in run("--dry-run", "--archive-url", url)
    assert AuditEvent.objects.count() == 2

    output = run("--archive-url", url)

    assert f"Finished the stopped run {stopped.name}" in output
    assert not AuditEvent.objects.exists()
    finished = ArchiveRun.load(open_store(url), stopped.name)
    assert finished.complete and finished.manifest["purged"] == 2
    assert [entry["events"] for entry in finished.files] == [len(old)]


def test_a_manifest_naming_a_file_outside_the_archive_is_refused(azurite, blob_container, tmp_path):
    """Whoever can write the container may rewrite a manifest: a file name such as
    ``../../x`` had a file outside the download folder written, imported and deleted."""
    victim = tmp_path / "victim.txt"
    victim.write_text("kept\n")
    store_events(400)
    url = azurite.url(blob_container, "archive")
    run("--archive-url", url)
    client = azurite.service().get_container_client(blob_container)
    (manifest_name,) = [name for name in blobs(azurite, blob_container) if "manifest" in name]
    manifest = json.loads(client.download_blob(manifest_name).readall())
    manifest["files"][0]["name"] = f"../../../../../../..{victim}"
    client.upload_blob(manifest_name, json.dumps(manifest).encode(), overwrite=True)

    errors = StringIO()
    with pytest.raises(CommandError, match=r"1 file\(s\) failed"):
        call_command("import_audit_logs", url, stdout=StringIO(), stderr=errors)
    assert "file 1: field 'name': not an archive file name" in errors.getvalue()
    assert victim.read_text() == "kept\n"
