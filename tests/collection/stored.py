"""Reading what a collector in another process stored (tests/processes.py's databases)."""

import sqlite3
import time

import psycopg

from tests.processes import ProcessDatabase


def all_rows(database: ProcessDatabase, sql: str) -> list[tuple]:
    if database.sqlite_path:
        with sqlite3.connect(database.sqlite_path) as connection:
            rows = connection.execute(sql).fetchall()
        connection.close()
        return rows
    with psycopg.connect(database.url.replace("postgres://", "postgresql://", 1)) as connection:
        return connection.execute(sql).fetchall()


def stored_ids(database: ProcessDatabase) -> list[str]:
    return sorted(row[0] for row in all_rows(database, "SELECT entra_id FROM logs_auditevent"))


def wait_for_events(database: ProcessDatabase, process, at_least: int) -> int:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        count = database.count_events()
        if count >= at_least:
            return count
        time.sleep(0.02)
    raise AssertionError("the collector stored nothing in two minutes")
