"""The halt points the crash tests stop a run at (``AUDITPORTAL_RETENTION_HALT_AT``), checked in
this process: which passage halts, what it says, and that the run stops exactly there.

The crash tests kill a child process at a halt point and check that nothing is lost; they can
only prove that if the run halts where they asked. Here the endless wait at the halt point is
ended by making its sleep raise, so the test sees where the run stood.
"""

import contextlib
import os
import sys
from datetime import UTC, datetime

import pytest
from django.db import connection

from logs.models import AuditEvent
from logs.partitions import partitioned
from logs.retention import faults
from logs.retention.faults import HALT_VARIABLE, halt_point
from logs.retention.policy import RetentionPolicy
from logs.retention.run import apply_retention
from tests.retention.support import manifests, store_events


class Halted(Exception):
    """Raised by the halt point's wait, so that the test regains control."""


@pytest.fixture
def halting(monkeypatch):
    """Halt points counted afresh, each wait (with the seconds it asked for) ending in Halted."""
    monkeypatch.setattr(faults, "_passages", {})
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        raise Halted

    monkeypatch.setattr(faults.time, "sleep", sleep)
    return waits


@contextlib.contextmanager
def stderr_as_a_pipe():
    """Standard error as a buffered pipe, as a parent process reads it: only what is flushed
    can be read. Set inside the test, where pytest's own capture is already in place."""
    reading, writing = os.pipe()
    os.set_blocking(reading, False)
    stream = open(writing, "w", buffering=1 << 16)  # noqa: SIM115 - closed below
    original, sys.stderr = sys.stderr, stream

    def written() -> str:
        try:
            return os.read(reading, 1 << 16).decode()
        except BlockingIOError:
            return ""

    try:
        yield written
    finally:
        sys.stderr = original
        stream.close()
        os.close(reading)


def test_without_the_variable_every_point_passes(halting, monkeypatch):
    monkeypatch.delenv(HALT_VARIABLE, raising=False)
    for _ in range(3):
        halt_point("written")
    assert halting == []


def test_the_nth_passage_of_the_named_step_halts_and_says_so(halting, monkeypatch):
    monkeypatch.setenv(HALT_VARIABLE, "written:2")
    with stderr_as_a_pipe() as written:
        halt_point("archived")
        halt_point("deleted")
        halt_point("written")  # the first passage of "written"
        assert halting == []
        assert written() == ""

        with pytest.raises(Halted):
            halt_point("written")

        assert written() == "retention halted at written:2\n"  # flushed: a parent sees it
    assert halting == [60]


def test_without_a_count_the_first_passage_halts(halting, monkeypatch):
    monkeypatch.setenv(HALT_VARIABLE, "deleted")
    with stderr_as_a_pipe() as written:
        halt_point("written")
        with pytest.raises(Halted):
            halt_point("deleted")
        assert written() == "retention halted at deleted:1\n"


# A fixed present: the three events below fall in one month (May 2025) whatever today's date
# is, so which retention path takes them does not depend on the calendar.
NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)


def assert_halted_at(archive_dir, stored, listed_files, status):
    assert AuditEvent.objects.count() == stored
    (run_folder,) = archive_dir.glob("retention-*")
    assert len(list(run_folder.glob("events-*.ndjson.zst"))) == 1
    assert not list(run_folder.glob("*.partial"))
    # The manifest on disk is the last one written before the halt.
    (manifest,) = manifests(archive_dir)
    assert len(manifest["files"]) == listed_files
    assert manifest["status"] == status


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("step", "stored", "listed_files", "status"),
    [
        # The file is written, not yet listed: nothing deleted.
        ("written:1", 3, 0, "archiving"),
        # The file is listed, none of its events deleted.
        ("archived:1", 3, 1, "archiving"),
        # The first batch (two events) is deleted, the run not finished.
        ("deleted:1", 1, 1, "archiving"),
    ],
)
def test_a_run_halts_exactly_at_its_step(
    halting, monkeypatch, archive_dir, step, stored, listed_files, status
):
    """Event by event, as every run on SQLite and a partly expired month on PostgreSQL."""
    store_events(400, 401, 402, now=NOW)
    monkeypatch.setenv(HALT_VARIABLE, step)

    with pytest.raises(Halted):
        apply_retention(
            RetentionPolicy(365), archive=archive_dir, batch_size=2, now=NOW, whole_months=False
        )

    assert_halted_at(archive_dir, stored, listed_files, status)


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="month partitions")
@pytest.mark.parametrize(
    ("step", "stored", "listed_files"),
    [
        ("written:1", 3, 0),
        ("archived:1", 3, 1),
        # The whole month is dropped at once, whatever the batch size.
        ("deleted:1", 0, 1),
    ],
)
def test_a_run_of_whole_months_halts_exactly_at_its_step(
    halting, monkeypatch, archive_dir, step, stored, listed_files
):
    assert partitioned()
    store_events(400, 401, 402, now=NOW)
    monkeypatch.setenv(HALT_VARIABLE, step)

    with pytest.raises(Halted):
        apply_retention(RetentionPolicy(365), archive=archive_dir, batch_size=2, now=NOW)

    assert_halted_at(archive_dir, stored, listed_files, "archiving")
