"""The container store's own rules (``logs.retention.blob_store``), against Azurite: files
staged in 4 MiB blocks, runs found and named, a stopped run's totals and stray files, a lease
lost mid-run, and errors that say which archive and what failed."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import BlobLeaseClient, ContainerSasPermissions, generate_container_sas
from django.core.management import CommandError, call_command
from django.utils import timezone

from logs.models import AuditEvent
from logs.retention.archive import ArchiveRun
from logs.retention.blob_store import BlobStore, _first_line, parse_archive_url
from logs.retention.policy import RetentionPolicy
from logs.retention.restore import archive_files
from logs.retention.run import apply_retention
from logs.retention.selection import next_part
from logs.retention.stores import LOCK_NAME, ArchiveBusyError, ArchiveStoreError
from tests.azurite import ACCOUNT, KEY
from tests.retention.support import store_events

pytestmark = pytest.mark.django_db

MIB = 2**20


def store_at(url: str) -> BlobStore:
    return BlobStore.from_url(url)


@pytest.mark.parametrize(
    ("writes", "blocks"),
    [
        ([2 * MIB, 2 * MIB, 2 * MIB, 1], [4 * MIB, 2 * MIB + 1]),
        ([4 * MIB], [4 * MIB]),
        ([10, 20], [30]),
    ],
    ids=["over a block", "exactly a block", "under a block"],
)
def test_a_file_is_staged_in_blocks_of_4_mib(azurite, blob_container, writes, blocks):
    store = store_at(azurite.url(blob_container, "archive"))
    content = b"".join(bytes([number]) * size for number, size in enumerate(writes))
    with store.open_writer("retention-x", "events-0001.ndjson.zst") as writer:
        start = 0
        for size in writes:
            assert writer.write(content[start : start + size]) == size
            start += size

    blob = azurite.service().get_blob_client(
        blob_container, "archive/retention-x/events-0001.ndjson.zst"
    )
    committed, _ = blob.get_block_list("committed")
    assert [block.size for block in committed] == blocks
    assert blob.download_blob().readall() == content


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://user@acct.blob.core.windows.net/container", "user name or password"),
        ("http://127.0.0.1:10000/", r"No account in the archive URL http://127.0.0.1:10000/"),
    ],
)
def test_more_urls_that_are_refused(url, message):
    with pytest.raises(ArchiveStoreError, match=message):
        parse_archive_url(url)


def test_a_run_that_has_listed_nothing_yet_is_found_and_finished(azurite, blob_container):
    url = azurite.url(blob_container, "archive")
    policy, now = RetentionPolicy(365), timezone.now()
    started = ArchiveRun.create(store_at(url), policy.describe(now), now)  # run.json only

    assert store_at(url).run_names() == [started.name]
    assert [run.name for run in ArchiveRun.unfinished(store_at(url))] == [started.name]
    result = apply_retention(policy, archive=url)
    assert result.resumed == [started.name]
    assert ArchiveRun.load(store_at(url), started.name).complete


def test_a_stopped_run_counts_what_it_listed_and_loses_its_stray_files(azurite, blob_container):
    store_events(403, 402, 401)
    url = azurite.url(blob_container, "archive")
    policy, now = RetentionPolicy(365), timezone.now()
    stopped = ArchiveRun.create(store_at(url), policy.describe(now), now)
    stopped.write_file(next_part(policy.expired(now), None, 2))
    # A file committed but never listed, as a run stopped between the two leaves it.
    with stopped.store.open_writer(stopped.name, "events-0002.ndjson.zst") as writer:
        writer.write(b"never listed")

    loaded = ArchiveRun.load(store_at(url), stopped.name)
    assert (loaded.manifest["events"], loaded.manifest["categories"]) == (
        2,
        stopped.manifest["categories"],
    )
    assert loaded.manifest["oldest"] == stopped.manifest["oldest"]

    result = apply_retention(policy, archive=url, now=now)

    assert result.resumed_purged == 2
    client = azurite.service().get_container_client(blob_container)
    names = sorted(
        blob.name for blob in client.list_blobs(name_starts_with=f"archive/{stopped.name}/")
    )
    assert names == [
        f"archive/{stopped.name}/{name}"
        for name in ("events-0001.json", "events-0001.ndjson.zst", "manifest.json", "run.json")
    ]


def test_runs_started_the_same_second_are_numbered(azurite, blob_container):
    store = store_at(azurite.url(blob_container))
    policy, now = RetentionPolicy(365), timezone.now()
    names = [ArchiveRun.create(store, policy.describe(now), now).name for _ in range(3)]
    base = f"retention-{now:%Y%m%dT%H%M%SZ}"
    assert names == [base, f"{base}-2", f"{base}-3"]


def test_a_run_that_is_not_there_or_not_json_is_named(azurite, blob_container):
    url = azurite.url(blob_container, "archive")
    with pytest.raises(ArchiveStoreError, match=f"{url}/retention-x: no run.json"):
        ArchiveRun.load(store_at(url), "retention-x")
    client = azurite.service().get_container_client(blob_container)
    client.upload_blob("archive/retention-y/run.json", b"{not json")
    with pytest.raises(ArchiveStoreError, match=f"{url}/retention-y/run.json is not JSON"):
        ArchiveRun.all(store_at(url))


def test_a_run_that_loses_its_lease_stops_before_its_next_delete(azurite, blob_container):
    store_events(404, 403, 402, 401)
    url = azurite.url(blob_container, "archive")
    lock = azurite.service().get_blob_client(blob_container, f"archive/{LOCK_NAME}")

    def break_the_lease(purged):
        if purged == 1:
            BlobLeaseClient(lock).break_lease(lease_break_period=0)

    # Event by event: a whole month on PostgreSQL goes in one step, after its own check.
    with pytest.raises(ArchiveBusyError) as raised:
        apply_retention(
            RetentionPolicy(365),
            archive=url,
            batch_size=1,
            on_progress=break_the_lease,
            whole_months=False,
        )

    assert AuditEvent.objects.count() == 3
    # Why, in the service's own first line.
    assert str(raised.value) == (
        f"This run lost its lease on {url}/{LOCK_NAME} and stops before deleting anything more "
        "(The lease ID matched, but the lease has been broken explicitly and cannot be renewed.)."
    )


def test_a_lock_the_credential_may_not_take_is_an_error_naming_the_archive(
    azurite, blob_container, monkeypatch
):
    token = generate_container_sas(
        ACCOUNT,
        blob_container,
        account_key=KEY,
        permission=ContainerSasPermissions(read=True, list=True, create=True),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )
    monkeypatch.setenv("AUDITPORTAL_ARCHIVE_CREDENTIAL", token)
    store_events(400)
    url = azurite.url(blob_container, "archive")

    with pytest.raises(ArchiveStoreError, match=f"^{url}: cannot take the lock: "):
        apply_retention(RetentionPolicy(365), archive=url)

    assert AuditEvent.objects.count() == 1


def test_a_file_that_cannot_be_downloaded_does_not_stop_the_others(azurite, blob_container):
    store_events(403, 402, 401)
    url = azurite.url(blob_container, "archive")
    result = apply_retention(RetentionPolicy(365), archive=url, part_size=1)
    client = azurite.service().get_container_client(blob_container)
    client.delete_blob(f"archive/{result.run}/events-0001.ndjson.zst")

    with archive_files(url) as files:
        read = [(file.location.rsplit("/", 1)[1], file.path is not None) for file in files]

    assert read == [
        ("events-0001.ndjson.zst", False),
        ("events-0002.ndjson.zst", True),
        ("events-0003.ndjson.zst", True),
    ]


def test_a_wrong_key_is_reported_at_the_first_step_with_the_archive(
    azurite, blob_container, monkeypatch
):
    monkeypatch.setenv("AUDITPORTAL_ARCHIVE_CREDENTIAL", "bm90IHRoZSBrZXk=")
    store_events(400)
    url = azurite.url(blob_container)
    with pytest.raises(CommandError, match=f"{url}: cannot create {LOCK_NAME}: "):
        call_command("apply_retention", "--archive-url", url, stdout=StringIO())
    assert AuditEvent.objects.count() == 1


def test_an_error_is_named_by_its_first_line_or_its_kind():
    assert _first_line(HttpResponseError(message="Server failed\nRequestId: 1")) == "Server failed"
    assert _first_line(ValueError("  \n")) == "ValueError"
