"""Real processes against the test's database: management commands and a served portal.

A process crash (a segfault, a hang) must be observed, not take the test run down with it, so
hostile input goes to commands and servers in processes of their own. On PostgreSQL they use
the test database itself, and the tests using them commit their data
(``django_db(transaction=True)``); on SQLite, whose test database lives in memory, they use a
copy of it in a file, made with SQLite's backup API at the moment the process is needed.
"""

import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
MANAGE = str(ROOT / "manage.py")


class ProcessDatabase:
    """The database a process runs on, and plain reads of it from the test."""

    def __init__(self, url: str, sqlite_path: Path | None = None):
        self.url = url
        self.sqlite_path = sqlite_path

    @classmethod
    def of_test_database(cls, directory: Path) -> "ProcessDatabase":
        """The test database as other processes can open it (see the module docstring)."""
        if connection.vendor == "postgresql":
            settings = connection.settings_dict
            return cls(
                f"postgres://{settings['USER']}:{settings['PASSWORD'] or ''}@"
                f"{settings['HOST'] or 'localhost'}:{settings['PORT'] or 5432}/{settings['NAME']}"
            )
        path = directory / "process.sqlite3"
        connection.ensure_connection()
        with sqlite3.connect(path) as copy:
            connection.connection.backup(copy)
        copy.close()
        return cls(f"sqlite:///{path}", path)

    def scalar(self, sql: str, parameters=()):
        if self.sqlite_path:
            with sqlite3.connect(self.sqlite_path) as database:
                row = database.execute(sql.replace("%s", "?"), parameters).fetchone()
            database.close()
            return row[0]
        with psycopg.connect(self.url.replace("postgres://", "postgresql://", 1)) as database:
            return database.execute(sql, parameters).fetchone()[0]

    def count_events(self) -> int:
        return self.scalar("SELECT COUNT(*) FROM logs_auditevent")

    def environment(self, **extra) -> dict:
        environment = {**os.environ, "DATABASE_URL": self.url, **extra}
        environment["DJANGO_SETTINGS_MODULE"] = "tests.settings"
        return environment


def manage(database: ProcessDatabase, *arguments: str, timeout: float = 120, **extra):
    """``manage.py`` with ``arguments`` to its end: a CompletedProcess (text output)."""
    return subprocess.run(
        [sys.executable, MANAGE, *arguments],
        env=database.environment(**extra),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# Runs manage.py as a terminal's foreground command does: Ctrl-C (SIGINT) raises
# KeyboardInterrupt. A child inherits an ignored SIGINT, and a test suite started in the
# background of a non-interactive shell has it ignored: Python then installs no handler.
INTERRUPTIBLE = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
)


def start_manage(
    database: ProcessDatabase, *arguments: str, interruptible: bool = False, **extra
) -> subprocess.Popen:
    """``manage.py`` with ``arguments`` started, not waited for; output to DEVNULL/pipes.
    ``interruptible``: SIGINT interrupts it as Ctrl-C does, however the tests were started."""
    prefix = [sys.executable, "-c", INTERRUPTIBLE] if interruptible else [sys.executable]
    return subprocess.Popen(
        [*prefix, MANAGE, *arguments],
        env=database.environment(**extra),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServedPortal:
    """``manage.py runserver`` on a loopback port, as a context manager; ``post`` sends a
    request and answers (status, headers, body) whatever the status."""

    def __init__(self, database: ProcessDatabase, log_path: Path):
        self.database = database
        self.log_path = log_path
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def __enter__(self):
        self._log = open(self.log_path, "w")  # closed in __exit__
        address = f"127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, MANAGE, "runserver", "--noreload", "--skip-checks", address],
            env=self.database.environment(),
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"the portal did not start:\n{self.log()}")

    def __exit__(self, *exc_info):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()
        return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self) -> bool:
        return self.process.poll() is None

    def post(self, path: str, body: bytes, headers: dict, timeout: float = 60):
        request = urllib.request.Request(self.url + path, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()


def ingestion_token(user_model, username: str = "entra-export-job") -> str:
    """The key of a new API token of a new Ingestion Service user. The role groups are put
    back first: a test that commits its data starts from a flushed database, without them."""
    from django.contrib.auth.models import Group, Permission
    from knox.models import AuthToken

    from logs.roles import INGESTION_SERVICE, apply_roles

    apply_roles(Group, Permission)
    user = user_model.objects.create_user(username)
    user.groups.add(Group.objects.get(name=INGESTION_SERVICE))
    return AuthToken.objects.create(user)[1]


def write_long_graph_file(path: Path, events: int) -> Path:
    """A Graph page of ``events`` records whose import takes seconds: a hundred generated
    records under many ids (generating each would take longer than importing it)."""
    import json

    from tests.factories import GraphDirectoryAuditFactory

    models = [GraphDirectoryAuditFactory() for _ in range(100)]
    records = [{**models[number % 100], "id": f"long-{number}"} for number in range(events)]
    path.write_text(json.dumps({"value": records}), encoding="utf-8")
    return path
