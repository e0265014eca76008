"""Azurite, Microsoft's Azure Storage emulator, for tests that need a real blob service.

``.ci/run`` installs it with npm into ``var/node`` (git-ignored):
``npm install --prefix var/node azurite@3``. The ``azurite`` fixture (tests/conftest.py)
starts ``azurite-blob`` once per test session on a free loopback port, with its data in a
temporary folder and its telemetry off, waits until it answers and stops it afterwards; the
``blob_container`` fixture gives each test a container of its own. Where Azurite is not
installed those tests are skipped, saying so, unless ``AUDITPORTAL_REQUIRE_AZURITE=1`` (set by
``.ci/run``) makes that a failure.

The account and key are Azurite's published development ones: they open nothing but the
emulator.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOCAL_INSTALL = ROOT / "var" / "node" / "node_modules" / ".bin" / "azurite-blob"
REQUIRE_VARIABLE = "AUDITPORTAL_REQUIRE_AZURITE"
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
START_SECONDS = 60


def azurite_executable() -> str | None:
    """The project's own install, else one on the PATH."""
    if LOCAL_INSTALL.exists():
        return str(LOCAL_INSTALL)
    return shutil.which("azurite-blob")


def skip_or_fail(reason: str) -> None:
    if os.environ.get(REQUIRE_VARIABLE) == "1":
        pytest.fail(f"{reason} ({REQUIRE_VARIABLE}=1)")
    pytest.skip(reason)


@dataclass
class Azurite:
    port: int
    log: Path

    @property
    def account_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{ACCOUNT}"

    def url(self, container: str, prefix: str = "") -> str:
        return f"{self.account_url}/{container}" + (f"/{prefix}" if prefix else "")

    def service(self):
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient(
            self.account_url, credential={"account_name": ACCOUNT, "account_key": KEY}
        )

    def new_container(self) -> str:
        name = f"test-{uuid.uuid4().hex[:20]}"
        self.service().create_container(name)
        return name


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
            connection.sendall(b"GET /devstoreaccount1?comp=list HTTP/1.1\r\nHost: x\r\n\r\n")
            return connection.recv(12).startswith(b"HTTP/1.1")
    except OSError:
        return False


@contextlib.contextmanager
def running_azurite(folder: Path) -> Iterator[Azurite]:
    """Azurite's blob service on a free loopback port, its data under ``folder``."""
    executable = azurite_executable()
    if executable is None:
        skip_or_fail(
            "Azurite is not installed: npm install --prefix var/node azurite@3 (see .ci/run)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "azurite.log"
    port = _free_port()
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [
                executable,
                "--blobHost", "127.0.0.1",
                "--blobPort", str(port),
                "--location", str(folder),
                "--skipApiVersionCheck",
                "--loose",
                "--disableTelemetry",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + START_SECONDS
        while not _answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Azurite did not start on port {port}:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield Azurite(port=port, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def azurite(tmp_path_factory) -> Iterator[Azurite]:
    with running_azurite(tmp_path_factory.mktemp("azurite")) as started:
        yield started


@pytest.fixture
def blob_container(azurite, monkeypatch) -> str:
    """A new, empty container, and the credential where ``--archive-url`` looks for it."""
    monkeypatch.setenv("AUDITPORTAL_ARCHIVE_CREDENTIAL", KEY)
    return azurite.new_container()
