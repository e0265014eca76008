"""A retention run killed at any step leaves no event deleted unarchived, and the next run
finishes the job without archiving anything twice.

The run is a real ``manage.py apply_retention`` process, stopped at a chosen step with
AUDITPORTAL_RETENTION_HALT_AT (logs/retention/faults.py) and killed with SIGKILL there. On
SQLite it runs against a migrated database file (the test database lives in memory); on
PostgreSQL against the test database, with this test's data committed.
"""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from logs.retention.faults import HALT_VARIABLE
from tests.retention.support import archive_records, manifests

# Committed data: the commands run in other processes (on PostgreSQL, on the test database).
pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
MANAGE = str(ROOT / "manage.py")
OLD_EVENTS, RECENT_EVENTS = 60, 15


def _environment(database_url: str, **extra) -> dict:
    environment = {**os.environ, "DATABASE_URL": database_url, **extra}
    environment.setdefault("SECRET_KEY", "test-only-secret-key")
    environment["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    environment.pop(HALT_VARIABLE, None)
    environment.update(extra)
    return environment


def manage(database_url: str, *arguments: str, **extra) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, MANAGE, *arguments],
        env=_environment(database_url, **extra),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory):
    path = tmp_path_factory.mktemp("crash") / "template.sqlite3"
    completed = manage(f"sqlite:///{path}", "migrate", "--verbosity", "0")
    assert completed.returncode == 0, completed.stderr
    return path


class Database:
    """The database the commands run on, and plain reads of it."""

    def __init__(self, url: str, sqlite_path: Path | None = None):
        self.url = url
        self.sqlite_path = sqlite_path

    def entra_ids(self) -> set[str]:
        sql = "SELECT entra_id FROM logs_auditevent"
        if self.sqlite_path:
            with sqlite3.connect(self.sqlite_path) as db:
                return {row[0] for row in db.execute(sql)}
        with psycopg.connect(self.url.replace("postgres://", "postgresql://", 1)) as db:
            return {row[0] for row in db.execute(sql)}


@pytest.fixture
def database(request, tmp_path):
    if connection.vendor == "postgresql":
        settings = connection.settings_dict
        url = (
            f"postgres://{settings['USER']}:{settings['PASSWORD'] or ''}@"
            f"{settings['HOST'] or 'localhost'}:{settings['PORT'] or 5432}/{settings['NAME']}"
        )
        return Database(url)
    path = tmp_path / "crash.sqlite3"
    shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
    return Database(f"sqlite:///{path}", path)


def seed(database: Database) -> set[str]:
    """OLD_EVENTS events dated over a year ago and RECENT_EVENTS recent ones; returns the old."""
    before = database.entra_ids()
    completed = manage(
        database.url, "seed_demo_data", "--events", str(OLD_EVENTS), "--until", "2020-06-01"
    )
    assert completed.returncode == 0, completed.stderr
    old = database.entra_ids() - before
    completed = manage(database.url, "seed_demo_data", "--events", str(RECENT_EVENTS))
    assert completed.returncode == 0, completed.stderr
    return old


def killed_at(database: Database, step: str, archive_dir: Path) -> None:
    """Start apply_retention, wait until it halts at ``step``, kill it."""
    process = subprocess.Popen(
        [
            sys.executable,
            MANAGE,
            "apply_retention",
            "--archive-dir",
            str(archive_dir),
            "--batch-size",
            "7",
        ],
        env=_environment(database.url, **{HALT_VARIABLE: step}),
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


# "deleted:2": after the second delete step, a batch of 7 on SQLite; on PostgreSQL the second
# of the old events' months dropped whole (logs.retention.months), the third still stored.
@pytest.mark.parametrize("step", ["written:1", "archived:1", "deleted:2"])
def test_a_killed_run_loses_nothing_and_a_second_run_finishes_it(database, tmp_path, step):
    old = seed(database)
    old_and_recent = database.entra_ids()
    archive_dir = tmp_path / "archive"

    killed_at(database, step, archive_dir)

    gone = old - database.entra_ids()
    archived = {record["id"] for record in archive_records(archive_dir)}
    listed = sum(entry["events"] for m in manifests(archive_dir) for entry in m["files"])
    assert gone <= archived  # nothing deleted that is not archived
    if step.startswith("deleted"):
        assert gone  # the kill came mid-purge
    assert manifests(archive_dir)[0]["status"] == "archiving"
    if step == "archived:1":
        dry_run = manage(
            database.url, "apply_retention", "--dry-run", "--archive-dir", str(archive_dir)
        )
        assert "was stopped before it finished" in dry_run.stdout
        assert database.entra_ids() == old_and_recent - gone

    completed = manage(database.url, "apply_retention", "--archive-dir", str(archive_dir))
    assert completed.returncode == 0, completed.stderr

    remaining = database.entra_ids()
    assert not remaining & old
    assert len(remaining) == RECENT_EVENTS
    records = [record["id"] for record in archive_records(archive_dir)]
    assert len(records) == len(set(records)) == OLD_EVENTS  # no duplicates
    assert set(records) == old
    assert all(m["status"] == "complete" for m in manifests(archive_dir))
    if step != "written:1":
        assert listed == OLD_EVENTS
    verified = manage(database.url, "verify_audit_log")
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith(f"OK {RECENT_EVENTS} events")


def test_concurrent_imports_do_not_fork_the_chain(database, tmp_path):
    """Three imports at once, each in its own process: one chain, no gap, no fork."""
    processes = [
        subprocess.Popen(
            [sys.executable, MANAGE, "seed_demo_data", "--events", "300", "--seed", str(seed)],
            env=_environment(database.url),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in (1, 2, 3)
    ]
    for process in processes:
        assert process.wait(timeout=120) == 0, process.stderr.read()
    assert len(database.entra_ids()) == 900
    verified = manage(database.url, "verify_audit_log")
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("OK 900 events")
