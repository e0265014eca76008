"""A retention run into a container (Azurite), killed at any step, loses nothing; the next run
finishes it without archiving anything twice and without rewriting any blob.

The run is a real ``manage.py apply_retention --archive-url`` process, stopped at a chosen step
(AUDITPORTAL_RETENTION_HALT_AT) and killed there, as in test_crash_recovery.py, whose database
helpers this uses.
"""

import json
import signal
import subprocess
import sys

import pytest
from azure.storage.blob import BlobLeaseClient

from logs.retention.faults import HALT_VARIABLE
from logs.retention.stores import LOCK_NAME
from tests.retention.support import decompressed
from tests.retention.test_crash_recovery import (
    MANAGE,
    OLD_EVENTS,
    RECENT_EVENTS,
    ROOT,
    _environment,
    database,  # noqa: F401 - a fixture
    manage,
    migrated_sqlite,  # noqa: F401 - a fixture
    seed,
)

pytestmark = pytest.mark.django_db(transaction=True)
PREFIX = "archive"


def killed_at(under_test, step: str, url: str) -> None:
    process = subprocess.Popen(
        [sys.executable, MANAGE, "apply_retention", "--archive-url", url, "--batch-size", "7"],
        env=_environment(under_test.url, **{HALT_VARIABLE: step}),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in process.stderr:
            if line.startswith("retention halted at"):
                break
        else:
            pytest.fail(f"apply_retention ended without halting at {step}")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)


class Container:
    def __init__(self, azurite, name):
        self.client = azurite.service().get_container_client(name)

    def etags(self) -> dict[str, str]:
        return {
            blob.name: blob.etag
            for blob in self.client.list_blobs()
            if not blob.name.endswith(LOCK_NAME)
        }

    def read_json(self, name: str):
        return json.loads(self.client.download_blob(name).readall())

    def listed_records(self) -> list[str]:
        """The activity ids in every file a run's entries list (complete run or not)."""
        ids = []
        for name in sorted(self.etags()):
            if name.rsplit("/", 1)[1].startswith("events-") and name.endswith(".json"):
                data = self.client.download_blob(name.replace(".json", ".ndjson.zst")).readall()
                ids += [json.loads(line)["id"] for line in decompressed(data).splitlines()]
        return ids

    def manifests(self) -> list[dict]:
        return [
            self.read_json(name) for name in sorted(self.etags()) if name.endswith("/manifest.json")
        ]

    def break_lease(self) -> None:
        """What an operator does (or waiting a minute) after a run was killed."""
        BlobLeaseClient(self.client.get_blob_client(f"{PREFIX}/{LOCK_NAME}")).break_lease(
            lease_break_period=0
        )


# "deleted:2": after the second delete step, a batch of 7 on SQLite; on PostgreSQL the second
# of the old events' months dropped whole (logs.retention.months), the third still stored.
@pytest.mark.parametrize("step", ["written:1", "archived:1", "deleted:2"])
def test_a_killed_run_loses_nothing_and_a_second_run_finishes_it(
    database,  # noqa: F811
    azurite,
    blob_container,
    step,
):
    old = seed(database)
    url = azurite.url(blob_container, PREFIX)
    container = Container(azurite, blob_container)

    killed_at(database, step, url)

    gone = old - database.entra_ids()
    assert gone <= set(container.listed_records())  # nothing deleted that is not archived
    if step.startswith("deleted"):
        assert gone
    assert not container.manifests()  # no run complete
    before = container.etags()

    refused = manage(database.url, "apply_retention", "--archive-url", url)
    assert refused.returncode != 0
    assert "Another apply_retention run is using" in refused.stderr
    container.break_lease()
    completed = manage(database.url, "apply_retention", "--archive-url", url)
    assert completed.returncode == 0, completed.stderr

    remaining = database.entra_ids()
    assert not remaining & old
    assert len(remaining) == RECENT_EVENTS
    records = container.listed_records()
    assert len(records) == len(set(records)) == OLD_EVENTS  # archived once each
    assert set(records) == old
    assert all(manifest["status"] == "complete" for manifest in container.manifests())
    assert sum(m["purged"] for m in container.manifests()) == OLD_EVENTS
    after = container.etags()
    rewritten = [name for name, etag in before.items() if after.get(name, etag) != etag]
    assert not rewritten, "blobs are written once"
    if step == "written:1":
        # The file the killed run committed but never listed is gone; its events were
        # archived again by the second run.
        assert [name for name in before if name not in after] == [
            name for name in before if name.endswith("events-0001.ndjson.zst")
        ]
    verified = manage(database.url, "verify_audit_log")
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith(f"OK {RECENT_EVENTS} events")
