"""The two quick-start commands, runnable on a fresh machine with nothing but Python 3.11+.

    python3 -m auditportal.quickstart serve [--port N]  # set up, load sample data, serve
    python3 -m auditportal.quickstart test              # set up, run the whole test suite

Each creates the virtual environment ``.venv`` when it is missing or out of date with
``pyproject.toml``, installs the project into it, and re-runs itself inside it. This module
must not import Django at the top: it runs before Django is installed.

``serve`` keeps its development settings (``DEBUG=1`` and a generated ``SECRET_KEY``) in
``var/development.env``, which ``manage.py`` reads (see auditportal.environment), so that
``.venv/bin/python manage.py <command>`` works afterwards with nothing exported.
"""

import argparse
import hashlib
import os
import secrets
import subprocess
import sys
import venv
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
VENV_DIR = PROJECT_DIR / ".venv"
VENV_PYTHON = VENV_DIR / "bin" / "python"
STAMP = VENV_DIR / ".auditportal-installed"
DEVELOPMENT_ENV = PROJECT_DIR / "var" / "development.env"
DEMO_USERNAME = "demo-admin"
DEMO_EVENTS = 3000
DEFAULT_PORT = 8000
USAGE = (
    "usage: python3 -m auditportal.quickstart serve [--port N]\n"
    "       python3 -m auditportal.quickstart test [pytest arguments...]"
)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"serve", "test"}:
        print(USAGE, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    # Checked before anything is installed: a mistyped option fails at once.
    serve_options = serve_arguments(rest) if command == "serve" else None
    if sys.version_info < (3, 11):  # noqa: UP036 - this runs before the venv, on any python3
        print("auditportal needs Python 3.11 or newer.", file=sys.stderr)
        return 1
    if Path(sys.prefix).resolve() != VENV_DIR.resolve():
        ensure_virtualenv()
        completed = subprocess.run(
            [str(VENV_PYTHON), "-m", "auditportal.quickstart", command, *rest], cwd=PROJECT_DIR
        )
        return completed.returncode
    os.chdir(PROJECT_DIR)
    if command == "test":
        return run_tests(rest)
    return serve(serve_options.port)


def serve_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python3 -m auditportal.quickstart serve")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="the port to serve on (%(default)s)"
    )
    options = parser.parse_args(argv)
    if not 0 < options.port < 65536:
        parser.error(f"--port {options.port} is not a port number (1-65535)")
    return options


def ensure_virtualenv() -> None:
    """Create .venv and install the project with its dev extra, unless already up to date."""
    wanted = hashlib.sha256((PROJECT_DIR / "pyproject.toml").read_bytes()).hexdigest()
    if VENV_PYTHON.exists() and STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not VENV_PYTHON.exists():
        print(f"Creating the virtual environment in {VENV_DIR} ...", flush=True)
        venv.create(VENV_DIR, with_pip=True)
    print("Installing auditportal and its dependencies ...", flush=True)
    pip = [str(VENV_PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{PROJECT_DIR}[dev]"], check=True)
    STAMP.write_text(wanted)


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], check=True)


def ensure_development_env(path: Path = DEVELOPMENT_ENV) -> bool:
    """Write the development settings ``manage.py`` reads, unless they exist (a second run keeps
    the key, and with it the sessions signed with it). Returns whether it wrote them."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Development settings written by `python3 -m auditportal.quickstart serve`.\n"
        "# manage.py reads them when the environment sets neither DEBUG nor SECRET_KEY.\n"
        "# For this machine only: never deploy them (see docs/operators/production.md).\n"
        "DEBUG=1\n"
        f"SECRET_KEY={secrets.token_urlsafe(50)}\n",
        encoding="utf-8",
    )
    path.chmod(0o600)
    return True


def serve(port: int = DEFAULT_PORT) -> int:
    if ensure_development_env():
        print(f"Wrote the development settings to {DEVELOPMENT_ENV}", flush=True)
    manage("migrate", "--no-input", "-v", "0")
    sample_files = sorted(
        str(path)
        for path in (PROJECT_DIR / "fixtures").rglob("*")
        if path.is_file() and path.suffix.lower() in {".json", ".csv", ".ndjson", ".jsonl"}
    )
    if sample_files:
        print(f"Loading {len(sample_files)} sample files from fixtures/ ...", flush=True)
        manage("import_audit_logs", *sample_files)
    # A fixed seed generates the same records each time, so a second run adds nothing.
    manage("seed_demo_data", "--events", str(DEMO_EVENTS), "--seed", "1")
    password = secrets.token_urlsafe(12)
    manage("create_demo_admin", "--username", DEMO_USERNAME, "--password", password)
    print(
        f"\nThe portal is at http://127.0.0.1:{port}/admin/\n"
        f"Sign in as {DEMO_USERNAME!r} with password {password!r}\n"
        "Other commands: .venv/bin/python manage.py <command> (nothing to export: they read\n"
        f"{DEVELOPMENT_ENV.relative_to(PROJECT_DIR)}); for example, a user in a role:\n"
        '  .venv/bin/python manage.py create_user alice --role "Audit Reader"\n',
        flush=True,
    )
    manage("runserver", f"127.0.0.1:{port}")
    return 0


def run_tests(pytest_args: list[str]) -> int:
    return subprocess.run([sys.executable, "-m", "pytest", *pytest_args]).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
