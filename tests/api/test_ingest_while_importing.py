"""A push while a file import holds the write lock is answered 503 with Retry-After, at once.

A file import is one transaction, holding the write lock (SQLite's, or on PostgreSQL the
chain's) until it ends. A push used to wait for it: on SQLite 30 seconds, then a 500 "database
is locked". Here a real ``import_audit_logs`` process is caught holding the lock and stopped
there (SIGSTOP) for as long as the test needs, and a push goes to a served portal.
"""

import json
import signal
import sqlite3
import time

import psycopg
import pytest

from logs.api.write_lock import RETRY_AFTER_SECONDS, WRITE_LOCK_WAIT_SECONDS
from logs.hash_chain import CHAIN_LOCK_KEY
from tests.factories import GraphDirectoryAuditFactory
from tests.processes import (
    ProcessDatabase,
    ServedPortal,
    ingestion_token,
    start_manage,
    write_long_graph_file,
)

pytestmark = pytest.mark.django_db(transaction=True)

# SQLite's usual busy timeout (auditportal/settings.py): what a push used to wait.
USUAL_WAIT_SECONDS = 30
# Enough events that the import holds the lock for a second or more, to be caught at it.
IMPORTED = 8_000


def write_lock_held(database: ProcessDatabase) -> bool:
    """Whether another connection holds the write lock the import takes."""
    if database.sqlite_path:
        probe = sqlite3.connect(database.sqlite_path, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError as error:
            assert "locked" in str(error), error
            return True
        finally:
            probe.close()
    url = database.url.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True) as probe:
        taken = probe.execute("SELECT pg_try_advisory_lock(%s)", [CHAIN_LOCK_KEY]).fetchone()[0]
        if taken:
            probe.execute("SELECT pg_advisory_unlock(%s)", [CHAIN_LOCK_KEY])
        return not taken


def import_holding_the_lock(database: ProcessDatabase, path):
    """An import process, stopped while it holds the write lock."""
    process = start_manage(database, "import_audit_logs", str(path))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        if write_lock_held(database):
            process.send_signal(signal.SIGSTOP)
            if write_lock_held(database):
                return process
            process.send_signal(signal.SIGCONT)  # it let go just then: catch it again
        time.sleep(0.005)
    process.kill()
    raise AssertionError("the import was never seen holding the write lock")


def test_a_push_during_a_long_import_is_503_with_retry_after_then_stored(
    tmp_path, django_user_model
):
    token = ingestion_token(django_user_model)
    database = ProcessDatabase.of_test_database(tmp_path)
    long_file = write_long_graph_file(tmp_path / "long.json", IMPORTED)
    page = json.dumps({"value": [GraphDirectoryAuditFactory(id="pushed-1")]}).encode()
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    with ServedPortal(database, tmp_path / "portal.log") as portal:
        importing = import_holding_the_lock(database, long_file)
        try:
            started = time.monotonic()
            status, response_headers, body = portal.post("/api/v1/ingest/", page, headers)
            waited = time.monotonic() - started
        finally:
            importing.send_signal(signal.SIGCONT)
        _, import_errors = importing.communicate(timeout=300)

        assert status == 503, (status, body[:2000], portal.log()[-3000:])
        assert response_headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert "send the request again" in json.loads(body)["detail"].lower()
        assert WRITE_LOCK_WAIT_SECONDS <= waited < USUAL_WAIT_SECONDS / 2, waited
        assert importing.returncode == 0, import_errors
        pushed = "SELECT COUNT(*) FROM logs_auditevent WHERE entra_id = %s"
        assert database.scalar(pushed, ["pushed-1"]) == 0

        status, _, body = portal.post("/api/v1/ingest/", page, headers)

    assert status == 201, body
    assert database.scalar(pushed, ["pushed-1"]) == 1
    assert database.count_events() == IMPORTED + 1
