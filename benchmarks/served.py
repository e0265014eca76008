"""The portal served as a deployment serves it: gunicorn on a free loopback port, for the
metrics that time requests over HTTP (load, and collect's origin).

gunicorn's own log goes to a temporary file, read back only if it stops before listening: a
pipe nobody reads could fill and stall it.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time

HOST = "127.0.0.1"
STARTUP_SECONDS = 60


class Gunicorn:
    """``with Gunicorn(workers=4) as port:`` serves ``auditportal.wsgi`` with ``environment``
    (default: this process's, so its database) and stops it on exit."""

    def __init__(self, *, workers: int, environment: dict | None = None):
        self.workers = workers
        self.environment = environment if environment is not None else os.environ.copy()

    def __enter__(self) -> int:
        with socket.socket() as probe:
            probe.bind((HOST, 0))
            self.port = probe.getsockname()[1]
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "auditportal.wsgi",
                "--workers",
                str(self.workers),
                "--bind",
                f"{HOST}:{self.port}",
                "--timeout",
                "600",
            ],
            env=self.environment,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"gunicorn stopped:\n{self.log.read()[-4000:]}")
            try:
                with socket.create_connection((HOST, self.port), timeout=1):
                    return self.port
            except OSError:
                time.sleep(0.2)
        self._stop()
        raise RuntimeError(f"gunicorn did not listen on {HOST}:{self.port} in time")

    def __exit__(self, *exc_info) -> None:
        self._stop()

    def _stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
