"""The source the Graph collector reads in tests: another auditportal, in a process of its own
with its own SQLite database holding known events, serving its Graph-compatible endpoint; and
a loopback proxy in front of it that injects the faults a real Graph sends.

The origin cannot share the test's database: the collector would find every event it reads
already stored.
"""

import http.client
import http.server
import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from logs.demo_data import GraphDirectoryAuditFactory
from tests.processes import MANAGE, ROOT, ProcessDatabase, ServedPortal

TOKEN_SCRIPT = """
from django.contrib.auth.models import Group, User
from knox.models import AuthToken
from logs.roles import AUDIT_READER
user = User.objects.create_user("collector")
user.groups.add(Group.objects.get(name=AUDIT_READER))
print(AuthToken.objects.create(user)[1])
"""


def known_records(count: int, *, prefix: str = "collect", end: datetime | None = None) -> list:
    """``count`` Graph records one minute apart, the newest a minute before ``end`` (now)."""
    end = end or datetime.now(UTC).replace(microsecond=0)
    return [
        {
            **GraphDirectoryAuditFactory(moment=end - timedelta(minutes=count - number)),
            "id": f"{prefix}-{number:05d}",
        }
        for number in range(count)
    ]


@dataclass
class Origin:
    url: str  # the server's root; its Graph endpoint is {url}/graph/v1.0
    token: str
    ids: list[str]
    database: ProcessDatabase


def _manage(database: ProcessDatabase, *arguments: str, timeout: float = 300) -> str:
    done = subprocess.run(
        [sys.executable, MANAGE, *arguments],
        env=database.environment(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def start_origin(folder: Path, records: list[dict]):
    """An auditportal serving ``records``: a context manager yielding an Origin."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "origin.sqlite3"
    database = ProcessDatabase(f"sqlite:///{path}", path)
    _manage(database, "migrate", "--no-input", "-v", "0")
    page = folder / "events.json"
    page.write_text(json.dumps({"value": records}), encoding="utf-8")
    _manage(database, "import_audit_logs", str(page))
    token = _manage(database, "shell", "-c", TOKEN_SCRIPT).strip().splitlines()[-1]
    portal = ServedPortal(database, folder / "origin.log")
    return _Running(portal, token, [record["id"] for record in records], database)


class _Running:
    def __init__(self, portal: ServedPortal, token: str, ids: list[str], database):
        self.portal, self.token, self.ids, self.database = portal, token, ids, database

    def __enter__(self) -> Origin:
        self.portal.__enter__()
        return Origin(self.portal.url, self.token, self.ids, self.database)

    def __exit__(self, *exc_info):
        return self.portal.__exit__(*exc_info)


@dataclass
class Seen:
    at: float  # when the request arrived
    path: str
    status: int
    fault: str


@dataclass
class FaultProxy:
    """A loopback HTTP proxy in front of ``origin``. Each request takes the next fault of
    ``plan`` (none once it is empty): ``"429"`` or ``"503"`` (answered with Retry-After:
    ``retry_after``), ``"drop"`` (the origin's answer cut mid-body, the connection closed),
    ``"bad"`` (the origin's page with one record's activityDateTime made unreadable),
    ``"empty"`` (an empty page whose nextLink asks for this page again),
    ``"slow"`` (the origin's answer after ``slow_seconds``), ``"loop"`` (the origin's page
    whose nextLink is this page again), ``"file"`` (whose nextLink is a file:// address);
    then ``otherwise``."""

    origin: str
    plan: list[str] = field(default_factory=list)
    retry_after: str = "1"
    slow_seconds: float = 0.5
    otherwise: str = ""
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self):
        proxy = self
        self._lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                arrived = time.monotonic()
                with proxy._lock:
                    fault = proxy.plan.pop(0) if proxy.plan else proxy.otherwise
                if fault in ("429", "503"):
                    body = json.dumps(
                        {"error": {"code": "TooManyRequests", "message": "slow down"}}
                    )
                    self._answer(int(fault), body.encode(), {"Retry-After": proxy.retry_after})
                    proxy._saw(arrived, self.path, int(fault), fault)
                    return
                status, headers, body = proxy._forward(self.path, dict(self.headers))
                if fault == "slow":
                    time.sleep(proxy.slow_seconds)
                if fault == "empty" and status == 200:
                    # As Graph may: an empty page whose nextLink leads on (here, to this page).
                    link = f"{proxy.url}{self.path}"
                    body = json.dumps({"value": [], "@odata.nextLink": link}).encode()
                if fault in ("loop", "file") and status == 200:
                    # The origin's page, its nextLink this page again (the same answer for
                    # ever) or an address that is not http.
                    page = json.loads(body)
                    page["@odata.nextLink"] = (
                        f"{proxy.url}{self.path}" if fault == "loop" else "file:///etc/passwd"
                    )
                    body = json.dumps(page).encode()
                if fault == "bad" and status == 200:
                    page = json.loads(body)
                    page["value"][len(page["value"]) // 2]["activityDateTime"] = "not a date"
                    body = json.dumps(page).encode()
                if fault == "drop":
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    proxy._saw(arrived, self.path, status, fault)
                    return
                self._answer(status, body, headers)
                proxy._saw(arrived, self.path, status, fault)

            def _answer(self, status, body, headers):
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _forward(self, path: str, headers: dict) -> tuple[int, dict, bytes]:
        target = self.origin.removeprefix("http://")
        connection = http.client.HTTPConnection(target, timeout=60)
        try:
            forwarded = {
                name: value
                for name, value in headers.items()
                if name.lower() in ("authorization", "accept", "host")
            }
            connection.request("GET", path, headers=forwarded)
            response = connection.getresponse()
            body = response.read()
            kept = {
                name: value
                for name, value in response.getheaders()
                if name.lower() in ("retry-after", "request-id", "client-request-id")
            }
            return response.status, kept, body
        finally:
            connection.close()

    def _saw(self, arrived: float, path: str, status: int, fault: str) -> None:
        with self._lock:
            self.seen.append(Seen(arrived, path, status, fault))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
