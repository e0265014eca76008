"""The collect metric: ``collect_source`` reading N events from a local Graph-compatible
endpoint (another auditportal, served by ``manage.py runserver`` on a loopback port) into an
empty database, timed from the first request to the last page's commit.

The origin is an SQLite database holding the data file's events, built once and kept in
benchmarks/out/ for later invocations, with the API token it serves under. Pages are Graph's
largest ($top=1000), and the rate limit is raised: Microsoft Graph's own limit (5 requests per
10 seconds per app and tenant) would cap any collector at 500 events/s, which says nothing of
this one. The raw limit beside it is the ingest metric's (the same rows inserted by the plain
driver).
"""

import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from benchmarks.databases import OUT_DIR
from benchmarks.worker import ROOT, child_environment
from logs.collection.collect import collect_source
from logs.models import CollectionSource

TOKEN_VARIABLE = "BENCHMARK_ORIGIN_TOKEN"
TOKEN_SCRIPT = (
    "from django.contrib.auth.models import Group, User\n"
    "from knox.models import AuthToken\n"
    "from logs.roles import AUDIT_READER\n"
    "user = User.objects.create_user('benchmark-collector')\n"
    "user.groups.add(Group.objects.get(name=AUDIT_READER))\n"
    "print(AuthToken.objects.create(user)[1])\n"
)
MANAGE = str(ROOT / "manage.py")


def collect_rate(path: str) -> dict:
    """Events per second collected from an origin serving ``path``'s events."""
    origin_url, token = _origin(Path(path))
    port = _free_port()
    environment = {
        **child_environment(origin_url),
        "AUDITPORTAL_THROTTLE_USER": "1000000/minute",
    }
    server = subprocess.Popen(
        [sys.executable, MANAGE, "runserver", "--noreload", "--skip-checks", f"127.0.0.1:{port}"],
        env=environment,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(port, server)
        os.environ[TOKEN_VARIABLE] = token
        settings.AUDITPORTAL_COLLECTION_PAGE_SIZE = 1000
        settings.AUDITPORTAL_COLLECTION_GRAPH_RATE = "1000000/1"
        source = CollectionSource.objects.create(
            name="benchmark-origin",
            kind="graph",
            url=f"http://127.0.0.1:{port}/graph/v1.0",
            token_env=TOKEN_VARIABLE,
        )
        started = time.perf_counter()
        result = collect_source(source, since=datetime(2000, 1, 1, tzinfo=UTC))
        seconds = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    if not result.ok or result.duplicate:
        raise RuntimeError(f"collection failed: {result.summary()} {result.errors[:3]}")
    return {"events": result.new, "seconds": seconds, "rate": result.new / seconds}


def _origin(path: Path) -> tuple[str, str]:
    """The origin database for ``path`` (built if missing) and its token."""
    database = OUT_DIR / f"collect-origin-{path.stem}.sqlite3"
    token_file = database.with_suffix(".token")
    url = f"sqlite:///{database}"
    if not token_file.exists():
        database.unlink(missing_ok=True)
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        for arguments in (["migrate", "--verbosity", "0"], ["import_audit_logs", str(path)]):
            _manage(url, *arguments)
        token = _manage(url, "shell", "-c", TOKEN_SCRIPT).strip().splitlines()[-1]
        token_file.write_text(token)
    return url, token_file.read_text().strip()


def _manage(database_url: str, *arguments: str) -> str:
    done = subprocess.run(
        [sys.executable, MANAGE, *arguments],
        env=child_environment(database_url),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {arguments[0]} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the origin server did not start")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the origin server did not answer within a minute")
