"""Typed readers for environment variables, so settings state their defaults in one place."""

import os
from datetime import UTC, date, datetime
from pathlib import Path

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"Environment variable {name}={raw!r} is not a boolean (use 1/0, true/false).")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw.strip())
    except ValueError:
        raise ValueError(f"Environment variable {name}={raw!r} is not a whole number.") from None


# The quick start's settings for development on this machine (auditportal.quickstart serve
# writes them; var/ is not in git). Only manage.py reads them, and only when the environment
# configures nothing itself (see load_development_env), so a deployment, CI and the test suite
# never run with them.
DEVELOPMENT_ENV = Path(__file__).resolve().parent.parent / "var" / "development.env"


def load_development_env(path: Path = DEVELOPMENT_ENV, environ=os.environ) -> bool:
    """Fill ``environ`` from the development env file ``path`` (``NAME=value`` lines, ``#``
    comments), when it exists and the environment sets neither ``DEBUG`` nor ``SECRET_KEY``
    and asks for the portal's own settings. Variables already set are kept. Returns whether the
    file was read.

    So after ``quickstart serve``, ``manage.py <command>`` works with nothing exported, while
    an environment that configures the portal (a deployment's SECRET_KEY, the tests'
    DJANGO_SETTINGS_MODULE=tests.settings) is never changed by a file left behind.
    """
    if environ.get("DJANGO_SETTINGS_MODULE", "auditportal.settings") != "auditportal.settings":
        return False
    if "DEBUG" in environ or "SECRET_KEY" in environ or not path.is_file():
        return False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, separator, value = line.partition("=")
        if not separator or not name.strip().isidentifier():
            raise ValueError(f"{path}, line {number}: not NAME=value")
        environ.setdefault(name.strip(), value.strip())
    return True


def env_date(name: str, default: date) -> datetime:
    """A date (YYYY-MM-DD), as midnight UTC that day."""
    raw = os.environ.get(name)
    day = default
    if raw is not None and raw.strip():
        try:
            day = date.fromisoformat(raw.strip())
        except ValueError:
            raise ValueError(
                f"Environment variable {name}={raw!r} is not a date such as 2000-01-01."
            ) from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
