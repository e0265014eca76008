"""The collect metric: ``collect_source`` reading N events from a local Graph-compatible
endpoint (another auditportal, served by gunicorn on a loopback port, as deployed) into an
empty database, timed from the first request to the last page's commit.

The origin is an SQLite database holding the data file's events, built once and kept in
benchmarks/out/ for later invocations, with the API token it serves under. Pages are Graph's
largest ($top=1000), and the rate limit is raised: Microsoft Graph's own limit (5 requests per
10 seconds per app and tenant) would cap any collector at 500 events/s, which says nothing of
this one. The raw limit beside it is the ingest metric's (the same rows inserted by the plain
driver).

``fetch_rate`` (the collect-fetch metric) reads the same pages from the same origin with the
same client and stores nothing: what the origin and the client alone allow, so that a collect
figure below it is the collector's storing, and one close to it the endpoint's serving.
"""

import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import orjson
from django.conf import settings

from benchmarks.databases import OUT_DIR, schema_tag
from benchmarks.served import HOST, Gunicorn
from benchmarks.worker import ROOT, child_environment
from logs.collection.collect import collect_source
from logs.collection.graph_source import GraphPages, next_link_of
from logs.models import CollectionSource

TOKEN_VARIABLE = "BENCHMARK_ORIGIN_TOKEN"
ORIGIN_WORKERS = 1
# Graph's largest page for directoryAudits.
PAGE_SIZE = 1000
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
    with _served_origin(Path(path), "benchmark-origin") as (source, origin_url):
        settings.AUDITPORTAL_COLLECTION_PAGE_SIZE = PAGE_SIZE
        started = time.perf_counter()
        result = collect_source(source, since=datetime(2000, 1, 1, tzinfo=UTC))
        seconds = time.perf_counter() - started
    if not result.ok or result.duplicate or result.new != _origin_count(origin_url):
        raise RuntimeError(f"collection failed: {result.summary()} {result.errors[:3]}")
    return {"events": result.new, "seconds": seconds, "rate": result.new / seconds}


def fetch_rate(path: str) -> dict:
    """Events per second read from an origin serving ``path``'s events, nothing stored: every
    page requested in turn by the collector's client (GraphPages), its nextLink followed."""
    with _served_origin(Path(path), "benchmark-origin-fetch") as (source, origin_url):
        pages = GraphPages(source)
        events = 0
        try:
            started = time.perf_counter()
            content = pages.first(datetime(2000, 1, 1, tzinfo=UTC), PAGE_SIZE)
            while True:
                events += len(orjson.loads(content)["value"])
                link = next_link_of(content)
                if link is None:
                    break
                content = pages.following(link)
            seconds = time.perf_counter() - started
        finally:
            pages.close()
    if events != _origin_count(origin_url):
        raise RuntimeError(f"read {events} events, the origin holds {_origin_count(origin_url)}")
    return {"events": events, "seconds": seconds, "rate": events / seconds}


@contextmanager
def _served_origin(path: Path, name: str):
    """The origin for ``path`` served by gunicorn, and a Graph collection source named
    ``name`` pointing at it with its token; yields (source, the origin's database URL).
    Both metrics go through here, so the collector and the bare client meet the same origin
    under the same rate limits."""
    origin_url, token = _origin(path)
    environment = {
        **child_environment(origin_url),
        "AUDITPORTAL_THROTTLE_USER": "1000000/minute",
    }
    # One worker: the collector asks for one page at a time.
    with Gunicorn(workers=ORIGIN_WORKERS, environment=environment) as port:
        os.environ[TOKEN_VARIABLE] = token
        settings.AUDITPORTAL_COLLECTION_GRAPH_RATE = "1000000/1"
        source = CollectionSource.objects.create(
            name=name,
            kind="graph",
            url=f"http://{HOST}:{port}/graph/v1.0",
            token_env=TOKEN_VARIABLE,
        )
        yield source, origin_url


def _origin(path: Path) -> tuple[str, str]:
    """The origin database for ``path`` (built if missing) and its token. Named by the
    schema's latest migration, as the populated databases are: one built by an older schema is
    not what the code being measured serves."""
    database = OUT_DIR / f"collect-origin-{path.stem}_{schema_tag()}.sqlite3"
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


def _origin_count(database_url: str) -> int:
    """How many events the origin holds: the collector must store each of them once."""
    with closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as origin:
        return origin.execute("SELECT count(*) FROM logs_auditevent").fetchone()[0]
