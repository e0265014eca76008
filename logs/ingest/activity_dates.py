"""Which activity dates an audit record may carry.

A record dated in year 9999 would top every newest-first list for ever, and one dated in year 1
falls outside anything Entra ever wrote; both are broken or planted input. So an activity date
must lie between AUDITPORTAL_EARLIEST_ACTIVITY_DATE (default 2000-01-01, before Entra ID
existed) and now plus AUDITPORTAL_FUTURE_MARGIN_HOURS (default 24: clocks disagree, and a
record is never written before its activity happened).

``plausible_activity_datetime`` is the one place this rule lives: every format's records pass
through it while they are normalised, so a refusal is a FieldError naming the field as the
source spells it, like any other bad value.

The parsing process of a large import (logs.ingest.parallel) has no Django settings configured
(it never reads them); its parent hands it the bounds, fixed for the run, through
``fix_bounds``.
"""

import contextlib
import time
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from logs.ingest.errors import FieldError

DEFAULT_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
DEFAULT_FUTURE_MARGIN_HOURS = 24

# Every record asks for the bounds: they are worked out at most once a second (a margin of
# hours does not mind), and again at once when a setting changes (tests override them).
BOUNDS_LIFETIME_SECONDS = 1.0

_fixed_bounds: tuple[datetime, datetime] | None = None
_cached_bounds: tuple[float, datetime, datetime] | None = None  # (until, earliest, latest)


def activity_date_bounds() -> tuple[datetime, datetime]:
    """(earliest, latest) activity date accepted now."""
    global _cached_bounds
    if _fixed_bounds is not None:
        return _fixed_bounds
    now = time.monotonic()
    cached = _cached_bounds
    if cached is not None and now < cached[0]:
        return cached[1], cached[2]
    earliest = getattr(settings, "AUDITPORTAL_EARLIEST_ACTIVITY_DATE", DEFAULT_EARLIEST)
    margin = getattr(settings, "AUDITPORTAL_FUTURE_MARGIN_HOURS", DEFAULT_FUTURE_MARGIN_HOURS)
    latest = datetime.now(UTC) + timedelta(hours=margin)
    _cached_bounds = (now + BOUNDS_LIFETIME_SECONDS, earliest, latest)
    return earliest, latest


@receiver(setting_changed)
def _forget_bounds(*, setting: str, **_) -> None:
    global _cached_bounds
    if setting.startswith("AUDITPORTAL_"):
        _cached_bounds = None


def fix_bounds(earliest: datetime, latest: datetime) -> None:
    """Use these bounds in this process from now on (a parsing process without settings)."""
    global _fixed_bounds
    _fixed_bounds = (earliest, latest)


def plausible_activity_datetime(moment: datetime, field: str) -> datetime:
    """``moment`` (aware, UTC) if it is a plausible activity date, else a FieldError."""
    earliest, latest = activity_date_bounds()
    if moment < earliest:
        raise FieldError(
            field,
            f"{_text(moment)} is before {_text(earliest)}, the earliest activity date accepted "
            "(AUDITPORTAL_EARLIEST_ACTIVITY_DATE)",
        )
    if moment > latest:
        raise FieldError(
            field,
            f"{_text(moment)} is in the future: it is later than {_text(latest)}, now plus the "
            "margin allowed (AUDITPORTAL_FUTURE_MARGIN_HOURS)",
        )
    return moment


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


@contextlib.contextmanager
def any_activity_date():
    """Accept every activity date within the block, in this process.

    Verification re-reads stored records (logs.derived_rows): their dates passed the bounds of
    the day they were stored, which the clock and the settings may have moved since, and the
    date does not change what is derived from a record."""
    global _fixed_bounds
    saved = _fixed_bounds
    _fixed_bounds = (datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC))
    try:
        yield
    finally:
        _fixed_bounds = saved
