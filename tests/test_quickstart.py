"""A newcomer's first hour: the quick start's port, and manage.py working after it with nothing
exported, while a deployment, CI and the tests never pick up the development settings."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from auditportal import quickstart
from auditportal.environment import load_development_env

ROOT = Path(__file__).resolve().parents[1]
PRINT_SETTINGS = "from django.conf import settings; print(settings.DEBUG, settings.SECRET_KEY)"


@pytest.fixture
def development_env(tmp_path):
    path = tmp_path / "var" / "development.env"
    assert quickstart.ensure_development_env(path)
    return path


def test_the_quick_start_writes_a_private_key_once(development_env):
    text = development_env.read_text()
    assert "DEBUG=1\n" in text
    key = next(line for line in text.splitlines() if line.startswith("SECRET_KEY="))[11:]
    assert len(key) >= 50
    assert development_env.stat().st_mode & 0o077 == 0  # for its owner only
    # A second run keeps it (and the sessions signed with it).
    assert not quickstart.ensure_development_env(development_env)
    assert development_env.read_text() == text


def test_the_development_settings_are_not_in_git():
    relative = quickstart.DEVELOPMENT_ENV.relative_to(ROOT)
    completed = subprocess.run(
        ["git", "check-ignore", "--no-index", "-q", str(relative)], cwd=ROOT, check=False
    )
    assert completed.returncode == 0


def test_serve_takes_a_port():
    assert quickstart.serve_arguments([]).port == 8000
    assert quickstart.serve_arguments(["--port", "8123"]).port == 8123
    for bad in (["--port", "0"], ["--port", "70000"], ["--port", "eighty"], ["--host", "x"]):
        with pytest.raises(SystemExit):
            quickstart.serve_arguments(bad)


@pytest.mark.parametrize(
    ("environment", "read"),
    [
        ({}, True),
        ({"DJANGO_SETTINGS_MODULE": "auditportal.settings"}, True),
        # The environment configures the portal itself: a deployment, CI, the tests.
        ({"SECRET_KEY": "k" * 60}, False),
        ({"DEBUG": "0"}, False),
        ({"DJANGO_SETTINGS_MODULE": "tests.settings"}, False),
    ],
)
def test_the_file_is_read_only_where_nothing_else_configures_the_portal(
    development_env, environment, read
):
    environ = dict(environment, DATABASE_URL="sqlite:///kept.sqlite3")
    assert load_development_env(development_env, environ) is read
    assert ("SECRET_KEY" in environ and environ.get("DEBUG") == "1") is read
    assert environ["DATABASE_URL"] == "sqlite:///kept.sqlite3"  # what is set stays


def test_a_malformed_file_names_its_line(tmp_path):
    path = tmp_path / "development.env"
    path.write_text("# comment\n\nDEBUG=1\nnot a setting\n")
    with pytest.raises(ValueError, match=r"development\.env, line 4: not NAME=value"):
        load_development_env(path, {})
    assert load_development_env(tmp_path / "missing.env", {}) is False


def run_manage(directory: Path, environment: dict) -> subprocess.CompletedProcess:
    """``manage.py shell`` printing DEBUG and SECRET_KEY, run as a newcomer would: from a copy
    of manage.py in ``directory`` (so that it reads ``directory``/var/development.env), with
    only ``environment`` set beyond PATH."""
    shutil.copy(ROOT / "manage.py", directory / "manage.py")
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{directory / 'db.sqlite3'}",
        **environment,
    }
    return subprocess.run(
        [sys.executable, str(directory / "manage.py"), "shell", "-v", "0", "-c", PRINT_SETTINGS],
        env=env,
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_manage_py_works_after_serve_with_nothing_exported(tmp_path, development_env):
    key = development_env.read_text().split("SECRET_KEY=")[1].strip()
    completed = run_manage(tmp_path, {})
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["True", key]


def test_production_still_refuses_a_missing_secret_key(tmp_path):
    completed = run_manage(tmp_path, {})  # no development settings written
    assert completed.returncode != 0
    assert "SECRET_KEY is not set" in completed.stderr


def test_a_leftover_file_does_not_reach_a_configured_environment(tmp_path, development_env):
    key = "production-key-" + "z9" * 30
    completed = run_manage(tmp_path, {"SECRET_KEY": key})
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["False", key]
    tests = run_manage(tmp_path, {"DJANGO_SETTINGS_MODULE": "tests.settings"})
    assert tests.returncode == 0, tests.stderr
    assert tests.stdout.split()[0] == "False"
