"""Hostile files through ``import_audit_logs``: every format, plain, gzip- and zstd-compressed.

A 5,000-digit number crashed the process (ijson's C backend), 5,000 nested lists raised
RecursionError, and a date-time with no UTC equivalent raised OverflowError, each with a
traceback. Now each is one line naming the file, the record and the field, the command exits
1, and nothing is stored. The command runs in a process of its own, so that a crash shows as a
signal, not as the end of the test run.
"""

import pytest

from logs.models import ImportBatch
from tests.processes import ProcessDatabase, manage
from tests.security.hostile import (
    COMPRESSIONS,
    DEEP_NESTING,
    HUGE_INTEGER,
    OVERFLOWING_DATE,
    date_files,
    json_number_or_nesting_files,
)

pytestmark = pytest.mark.django_db(transaction=True)

NUMBER_MESSAGE = "holds a number that cannot be kept exactly"
DEPTH_MESSAGE = "nests objects and lists deeper than 64 levels"
DATE_MESSAGE = "lies outside the range of dates"


def import_every_file(tmp_path, files) -> tuple[list[str], str, ProcessDatabase]:
    """Write each file plain, gzip- and zstd-compressed, import them all in one process; the paths,
    the process's standard error and its database (after checking it exited cleanly)."""
    directory = tmp_path / "input"
    directory.mkdir()
    paths = []
    for compression in COMPRESSIONS:
        for hostile in files:
            paths.append(str(hostile.write(directory, compression)))
    database = ProcessDatabase.of_test_database(tmp_path)
    completed = manage(database, "import_audit_logs", *paths, timeout=120)
    assert completed.returncode == 1, (completed.returncode, completed.stderr[-3000:])
    assert "Traceback" not in completed.stderr, completed.stderr[-3000:]
    return paths, completed.stderr, database


def error_line(stderr: str, path: str) -> str:
    [line] = [line for line in stderr.splitlines() if line.startswith(f"{path}, ")]
    return line


@pytest.mark.parametrize(
    ("raw", "message"),
    [(HUGE_INTEGER, NUMBER_MESSAGE), (DEEP_NESTING, DEPTH_MESSAGE)],
    ids=["huge-integer", "deep-nesting"],
)
def test_every_json_layout_names_file_record_and_field(tmp_path, raw, message):
    files = json_number_or_nesting_files(raw)
    paths, stderr, database = import_every_file(tmp_path, files)

    for path, hostile in zip(paths, files * len(COMPRESSIONS), strict=True):
        line = error_line(stderr, path)
        assert line.startswith(f"{path}, {hostile.location}, field {hostile.field}"), line
        assert line.endswith(message) or message in line, line
        assert f"{path}: import failed, nothing was stored from it." in stderr
    assert database.count_events() == 0


def test_a_date_without_a_utc_equivalent_names_file_record_and_field(tmp_path):
    files = date_files(OVERFLOWING_DATE)
    paths, stderr, database = import_every_file(tmp_path, files)

    for path, hostile in zip(paths, files * len(COMPRESSIONS), strict=True):
        line = error_line(stderr, path)
        assert line.startswith(f"{path}, {hostile.location}, field {hostile.field}"), line
        assert DATE_MESSAGE in line and OVERFLOWING_DATE in line, line
    assert database.count_events() == 0
    # Every attempt is closed as failed, none left running.
    statuses = database.scalar(
        "SELECT COUNT(*) FROM logs_importbatch WHERE status = %s", [ImportBatch.Status.FAILED]
    )
    assert statuses == len(paths)
    assert database.scalar("SELECT COUNT(*) FROM logs_importbatch") == len(paths)
