"""Every ImportBatch is closed: completed, failed, or, when its process was killed, marked
interrupted by the next import, while an import still running elsewhere is left alone.

The killed and the live imports are real ``import_audit_logs`` processes (stopped with SIGSTOP,
killed with SIGKILL, interrupted with SIGINT); on SQLite they share a file copy of the test
database, on PostgreSQL the test database itself.
"""

import json
import signal
import time

import pytest

from logs.ingest.batches import (
    abandoned_batches,
    mark_interrupted_batches,
    open_batch,
    release_claim,
)
from logs.ingest.importer import import_file
from logs.models import ImportBatch
from tests.factories import GraphDirectoryAuditFactory
from tests.processes import ProcessDatabase, manage, start_manage, write_long_graph_file
from tests.security.hostile import OVERFLOWING_DATE


def graph_file(path, records):
    path.write_text(json.dumps({"value": records}), encoding="utf-8")
    return path


@pytest.mark.django_db
def test_an_import_stopped_by_an_error_closes_its_batch_as_failed(tmp_path):
    path = graph_file(
        tmp_path / "page.json",
        [
            GraphDirectoryAuditFactory(),
            GraphDirectoryAuditFactory(activityDateTime=OVERFLOWING_DATE),
        ],
    )
    result = import_file(path)
    assert result.failed
    assert ImportBatch.objects.get().status == ImportBatch.Status.FAILED


@pytest.mark.django_db
def test_a_running_batch_no_process_claims_is_marked_interrupted_by_the_next_import(tmp_path):
    """Left by an import from before claims, say; this process's own running one is kept."""
    orphan = ImportBatch.objects.create(file_name="old.json", format="graph")
    assert abandoned_batches() == [orphan.pk]
    own = open_batch(file_name="now.json", format="graph")
    try:
        orphan.refresh_from_db()
        assert orphan.status == ImportBatch.Status.INTERRUPTED
        assert abandoned_batches() == []
        assert mark_interrupted_batches() == []
        own.refresh_from_db()
        assert own.status == ImportBatch.Status.RUNNING
    finally:
        release_claim(own)


@pytest.mark.django_db
def test_a_database_that_cannot_be_reached_is_one_line_and_exit_1(tmp_path):
    path = graph_file(tmp_path / "page.json", [GraphDirectoryAuditFactory()])
    unreachable = ProcessDatabase(f"sqlite:///{tmp_path}/no/such/directory/db.sqlite3")
    completed = manage(unreachable, "import_audit_logs", str(path))
    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr, completed.stderr
    assert f"{path}: import failed: OperationalError: unable to open database file" in (
        completed.stderr
    )


@pytest.fixture(scope="module")
def long_file(tmp_path_factory):
    """A file whose import takes a few seconds, long enough to be caught running, and large
    enough to be parsed in a second process."""
    return write_long_graph_file(tmp_path_factory.mktemp("long") / "long.json", 20_000)


def start_running_import(database: ProcessDatabase, path, *, interruptible: bool = False):
    """An import process, returned once its own batch (of ``path``, newer than any before it)
    is written and running."""
    before = database.scalar("SELECT COALESCE(MAX(id), 0) FROM logs_importbatch")
    process = start_manage(database, "import_audit_logs", str(path), interruptible=interruptible)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        running = database.scalar(
            "SELECT MAX(id) FROM logs_importbatch WHERE status = %s AND file_name = %s AND id > %s",
            [ImportBatch.Status.RUNNING, str(path), before],
        )
        if running:
            return process, running
        time.sleep(0.01)
    process.kill()
    raise AssertionError("the import never started")


def status_of(database: ProcessDatabase, batch: int) -> str:
    return database.scalar("SELECT status FROM logs_importbatch WHERE id = %s", [batch])


def abandoned(database: ProcessDatabase) -> list[int]:
    completed = manage(
        database,
        "shell",
        "-c",
        "from logs.ingest.batches import abandoned_batches; print(abandoned_batches())",
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.splitlines()[-1])


@pytest.mark.django_db(transaction=True)
def test_a_killed_import_is_marked_interrupted_by_the_next_but_a_live_one_is_not(
    tmp_path, long_file
):
    database = ProcessDatabase.of_test_database(tmp_path)
    process, batch = start_running_import(database, long_file)
    try:
        process.send_signal(signal.SIGSTOP)  # alive, its batch running, for as long as needed
        assert abandoned(database) == []
        assert status_of(database, batch) == ImportBatch.Status.RUNNING
    finally:
        process.kill()
        process.communicate()
    deadline = time.monotonic() + 30  # PostgreSQL ends the session once it sees the socket shut
    while abandoned(database) != [batch]:
        assert time.monotonic() < deadline, "the killed import still holds its claim"
    assert status_of(database, batch) == ImportBatch.Status.RUNNING

    small = graph_file(tmp_path / "small.json", [GraphDirectoryAuditFactory()])
    completed = manage(database, "import_audit_logs", str(small))

    assert completed.returncode == 0, completed.stderr
    assert status_of(database, batch) == ImportBatch.Status.INTERRUPTED
    assert "ended before it closed this batch; nothing was kept" in database.scalar(
        "SELECT error FROM logs_importbatch WHERE id = %s", [batch]
    )
    assert database.scalar(
        "SELECT status FROM logs_importbatch WHERE file_name = %s", [str(small)]
    ) == (ImportBatch.Status.COMPLETED)
    assert database.count_events() == 1


@pytest.mark.django_db(transaction=True)
def test_ctrl_c_closes_the_batch_and_prints_one_line(tmp_path, long_file):
    database = ProcessDatabase.of_test_database(tmp_path)
    process, batch = start_running_import(database, long_file, interruptible=True)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)

    assert process.returncode == 1, stderr
    assert "Traceback" not in stderr, stderr
    assert f"Interrupted while importing {long_file}" in stderr.splitlines()[-1]
    assert status_of(database, batch) == ImportBatch.Status.FAILED
    assert database.count_events() == 0
