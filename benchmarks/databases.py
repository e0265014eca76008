"""Fresh, migrated, empty databases for each measurement.

Every measurement starts from an empty database with the full schema (all indexes and triggers),
because that is what the targets are about. Migrating takes seconds, so each engine is migrated
once per benchmark run into a template, and each measurement gets a copy of it.
"""

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import dj_database_url
import psycopg

from benchmarks.datafile import GENERATOR_VERSION
from benchmarks.worker import ROOT, child_environment, run_in_child

OUT_DIR = ROOT / "benchmarks" / "out"
ENGINES = ("sqlite", "postgres")
# PostgreSQL cuts longer names short (NAMEDATALEN - 1), which could make two names one.
POSTGRES_NAME_LIMIT = 63
DEFAULT_POSTGRES_URL = os.environ.get(
    "BENCHMARK_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/auditportal_bench"
)


class Databases:
    """Hands out empty databases for one engine: ``sqlite`` (a file) or ``postgres``."""

    def __init__(self, engine: str, out_dir: Path = OUT_DIR, postgres_url=DEFAULT_POSTGRES_URL):
        if engine not in ENGINES:
            raise ValueError(f"unknown database {engine!r}; choose one of {', '.join(ENGINES)}")
        self.engine = engine
        self.out_dir = Path(out_dir)
        self.postgres_url = postgres_url
        self._template_ready = False

    def fresh(self) -> str:
        """The DATABASE_URL of an empty, migrated database, replacing the previous one."""
        if not self._template_ready:
            self._build_template()
            self._template_ready = True
        if self.engine == "sqlite":
            target = self._sqlite_path("bench")
            _remove_sqlite(target)
            shutil.copyfile(self._sqlite_path("template"), target)
            return f"sqlite:///{target}"
        name = self._postgres_name()
        self._postgres_admin(
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
            f'CREATE DATABASE "{name}" TEMPLATE "{name}_template"',
        )
        return self.postgres_url

    def populated(self, path: Path, events: int, log=None) -> str:
        """The DATABASE_URL of a database holding the ``events`` records of ``path``.

        Built once (an import on a fresh database, then VACUUM ANALYZE, as autovacuum would)
        and kept under a name that says its size and schema (the latest migration), so
        read-only metrics reuse it across invocations until the schema changes.
        """
        if not self.has_populated(events):
            self._populate(path, events, log)
            self.keep_as_populated(events)
        if self.engine == "sqlite":
            return f"sqlite:///{self._populated_sqlite_path(events)}"
        url = self.postgres_url.rsplit("/", 1)[0] + f"/{self._populated_postgres_name(events)}"
        with psycopg.connect(_libpq_url(url), autocommit=True) as connection:
            connection.execute("ANALYZE")
        return url

    def has_populated(self, events: int) -> bool:
        if self.engine == "sqlite":
            return self._populated_sqlite_path(events).exists()
        return self._postgres_exists(self._populated_postgres_name(events))

    def keep_as_populated(self, events: int) -> None:
        """Keep a copy of the last fresh database, which an import of the data file has just
        filled, as the populated one (unless there is one): the ingest metric's import is the
        very import that populating runs, and a million events take minutes to import."""
        if self.has_populated(events):
            return
        if self.engine == "sqlite":
            target = self._populated_sqlite_path(events)
            _checkpoint(self._sqlite_path("bench"))
            shutil.copyfile(self._sqlite_path("bench"), f"{target}.partial")
            os.replace(f"{target}.partial", target)
            return
        # What autovacuum does soon after a large import (PostgreSQL vacuums insert-only
        # tables too): statistics, and the visibility map index-only scans rely on.
        with psycopg.connect(_libpq_url(self.postgres_url), autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE")
        name = self._populated_postgres_name(events)
        self._postgres_admin(f'CREATE DATABASE "{name}" TEMPLATE "{self._postgres_name()}"')

    # The names say the data file's generator too: a database an earlier generator's file
    # populated holds other data, and is never reused.
    def _populated_sqlite_path(self, events: int) -> Path:
        return self._sqlite_path(f"populated-{events}-gen{GENERATOR_VERSION}_{schema_tag()}")

    def _populated_postgres_name(self, events: int) -> str:
        name = f"{self._postgres_name()}_populated_{events}_gen{GENERATOR_VERSION}_{schema_tag()}"
        if len(name.encode()) > POSTGRES_NAME_LIMIT:
            raise ValueError(f"{name!r} is longer than PostgreSQL's names may be")
        return name

    def populated_copy(self, path: Path, events: int) -> str:
        """The DATABASE_URL of a throwaway copy of the populated database (replacing the
        previous fresh one), for a measurement that changes the data."""
        source = self.populated(path, events)
        if self.engine == "sqlite":
            target = self._sqlite_path("bench")
            _remove_sqlite(target)
            shutil.copyfile(dj_database_url.parse(source)["NAME"], target)
            return f"sqlite:///{target}"
        name = self._postgres_name()
        source_name = dj_database_url.parse(source)["NAME"]
        self._postgres_admin(
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
            f'CREATE DATABASE "{name}" TEMPLATE "{source_name}"',
        )
        return self.postgres_url

    def _populate(self, path: Path, events: int, log) -> None:
        if log is not None:
            print(f"populating a {self.engine} database with {events:,} events", file=log)
        figures = run_in_child("ingest.import_rate", self.fresh(), str(path))
        if figures["events"] != events:
            raise RuntimeError(f"populating stored {figures['events']} events, not {events}")

    def _postgres_exists(self, name: str) -> bool:
        with self._maintenance_connection() as connection:
            row = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            return row.fetchone() is not None

    def _build_template(self) -> None:
        if self.engine == "sqlite":
            template = self._sqlite_path("template")
            self.out_dir.mkdir(parents=True, exist_ok=True)
            _remove_sqlite(template)
            migrate(f"sqlite:///{template}")
            # The copies must be whole files: fold the write-ahead log back in.
            _checkpoint(template)
            return
        name = self._postgres_name()
        self._postgres_admin(
            f'DROP DATABASE IF EXISTS "{name}_template" WITH (FORCE)',
            f'CREATE DATABASE "{name}_template"',
        )
        migrate(self.postgres_url.rsplit("/", 1)[0] + f"/{name}_template")

    def _sqlite_path(self, role: str) -> Path:
        return self.out_dir / f"{role}.sqlite3"

    def _postgres_name(self) -> str:
        return dj_database_url.parse(self.postgres_url)["NAME"]

    def _postgres_admin(self, *statements: str) -> None:
        with self._maintenance_connection() as connection:
            for statement in statements:
                connection.execute(statement)

    def _maintenance_connection(self):
        """A connection to the server's "postgres" database, for creating and dropping ours."""
        settings = dj_database_url.parse(self.postgres_url)
        return psycopg.connect(
            dbname="postgres",
            host=settings["HOST"],
            port=settings["PORT"] or 5432,
            user=settings["USER"],
            password=settings["PASSWORD"] or None,
            autocommit=True,
        )


def schema_tag() -> str:
    """The number of the app's latest migration, e.g. "0007"."""
    migrations = sorted((ROOT / "logs" / "migrations").glob("[0-9][0-9][0-9][0-9]_*.py"))
    return migrations[-1].name[:4]


def _libpq_url(database_url: str) -> str:
    """dj-database-url's postgres:// form, as libpq reads it."""
    return database_url.replace("postgres://", "postgresql://", 1)


def migrate(database_url: str) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--verbosity", "0"],
        env=child_environment(database_url),
        cwd=ROOT,
        check=True,
    )


def _checkpoint(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode=DELETE")


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
