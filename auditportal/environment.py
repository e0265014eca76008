"""Typed readers for environment variables, so settings state their defaults in one place."""

import os
from datetime import UTC, date, datetime

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
