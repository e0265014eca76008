"""Running one measurement in a child process, so that each has clean settings and its own RSS,
and the settings a child process runs with.

The parent never imports Django; the child configures it from DATABASE_URL, calls
``benchmarks.<module>.<function>(*arguments)`` and prints its figures as one JSON line, with the
child's peak resident memory (VmHWM) added.
"""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child_environment(database_url: str) -> dict:
    """Settings for a child process: the database, production-like (no DEBUG query log)."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "auditportal.settings",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "benchmark-only-secret-key-" + "b3n" * 10),
        "DEBUG": "0",
        # Requests are measured over plain http, as the benchmark's test client sends them.
        "SECURE_SSL_REDIRECT": os.environ.get("SECURE_SSL_REDIRECT", "0"),
    }


def run_in_child(function: str, database_url: str, *arguments: str) -> dict:
    """Figures returned by ``function`` (e.g. "ingest.import_rate") run against the database."""
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.worker", function, *arguments],
        env=child_environment(database_url),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{function} failed:\n{completed.stderr[-4000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def peak_rss_mb() -> float:
    """This process's peak resident set size, in MiB (Linux)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("VmHWM not found in /proc/self/status")


def main(function: str, *arguments: str) -> None:
    import django

    django.setup()
    module_name, function_name = function.rsplit(".", 1)
    module = importlib.import_module(f"benchmarks.{module_name}")
    figures = getattr(module, function_name)(*arguments)
    figures["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(figures))


if __name__ == "__main__":
    main(*sys.argv[1:])
