"""One way to show a time: ``2026-12-05 19:13:07 UTC``, and the reader's own time beside it.

Every page shows times through this module (the ``portal_time`` template filter, the
changelist's date column, the admin lists of access records, import batches and tokens), so a
time reads the same everywhere: ISO date, seconds, zone; never a locale's "Dec. 5, 2026, 7:13
p.m.", never a time without its zone. Stored times, URLs, the API and every export stay UTC.

A user may choose a display time zone (kept with the column choice, ``ColumnPreference``): pages
then show the local time beside the UTC one, and the changelist's date range may be typed in
it (``local_range_to_utc`` turns what was typed into the UTC the URL keeps).
"""

import functools
import zoneinfo
from datetime import UTC, datetime

from django.utils.dateparse import parse_datetime
from django.utils.html import format_html

# What the date inputs ask for: the form every page shows, so a shown time can be typed back.
INPUT_FORMAT_HINT = "YYYY-MM-DD HH:MM:SS"
# Zones a person would choose: "Area/City" names, not the aliases kept for old systems
# ("US/Eastern") or the POSIX-signed "Etc/GMT+5", which is five hours *behind* GMT.
_ALIAS_AREAS = ("Etc/", "SystemV/", "US/", "Canada/", "Mexico/", "Brazil/", "Chile/")


def as_utc(value) -> datetime | None:
    """``value`` (an aware or naive-UTC datetime, or ISO 8601 text as the reports give) in UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        # The date filters' own parser, so a value means here what it means to them.
        parsed = parse_datetime(value.strip())
        if parsed is None:
            raise ValueError(f"{value!r} is not an ISO 8601 date-time")
        value = parsed
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def wall_clock(moment: datetime, microseconds: bool = False) -> str:
    """``2026-12-05 19:13:07``: the date and time ``moment`` shows on its own clock (the year
    always in four digits, which strftime leaves out below 1000)."""
    return moment.replace(tzinfo=None).isoformat(
        sep=" ", timespec="microseconds" if microseconds else "seconds"
    )


def utc_text(value) -> str:
    """``2026-12-05 19:13:07 UTC``; empty for no time."""
    moment = as_utc(value)
    return f"{wall_clock(moment)} UTC" if moment is not None else ""


def local_text(value, zone: zoneinfo.ZoneInfo) -> str:
    """``2026-12-05 20:13:07 Europe/Paris``: the same moment on the reader's clock."""
    moment = as_utc(value)
    return f"{wall_clock(moment.astimezone(zone))} {zone.key}" if moment is not None else ""


def time_html(value, zone: zoneinfo.ZoneInfo | None = None) -> str:
    """The UTC time in a ``<time>`` element, and the local time beside it (in parentheses) when
    a zone is given."""
    moment = as_utc(value)
    if moment is None:
        return ""
    utc = format_html(
        '<time class="portal-time" datetime="{}">{}</time>',
        moment.isoformat().replace("+00:00", "Z"),
        utc_text(moment),
    )
    if zone is None:
        return utc
    return format_html(
        '{} <span class="portal-local-time">({})</span>', utc, local_text(moment, zone)
    )


@functools.cache
def choosable_time_zones() -> tuple[str, ...]:
    names = zoneinfo.available_timezones()
    return tuple(
        sorted(name for name in names if "/" in name and not name.startswith(_ALIAS_AREAS))
    )


def zone_named(name: str) -> zoneinfo.ZoneInfo | None:
    """The display zone called ``name``; None for UTC only (empty, "UTC", or not choosable)."""
    if name not in choosable_time_zones():
        return None
    return zoneinfo.ZoneInfo(name)


def display_zone(request) -> zoneinfo.ZoneInfo | None:
    """The signed-in user's display time zone, None for UTC only; read once per request."""
    if request is None:
        return None
    if not hasattr(request, "_portal_display_zone"):
        from logs.models.preferences import preference_of

        preference = preference_of(request)
        request._portal_display_zone = zone_named(preference.time_zone if preference else "")
    return request._portal_display_zone


def current_display_zone() -> zoneinfo.ZoneInfo | None:
    """The display zone of the request being served (None outside one: commands show UTC)."""
    from logs.access_trail import current_request  # the trail's middleware keeps the request

    return display_zone(current_request())


def input_value(utc_value: str, zone: zoneinfo.ZoneInfo | None) -> str:
    """A date filter's UTC value (as the URL holds it) as a date input shows it: in ``zone``
    when there is one, in the form the pages show. Text that is no date-time stays as it is,
    so that a mistyped value can be corrected."""
    try:
        moment = as_utc(utc_value)
        if moment is None:
            return ""
        shown = moment.astimezone(zone) if zone else moment
    except (ValueError, OverflowError):
        return utc_value
    # Shown so that applying the range again unchanged selects the same events: microseconds
    # when the URL has them, and the offset when a clock change makes the wall time happen twice.
    text = wall_clock(shown, microseconds=bool(shown.microsecond))
    if zone is not None and _is_repeated(shown):
        text += shown.isoformat()[-6:]
    return text


def _is_repeated(local: datetime) -> bool:
    """Whether ``local``'s wall time happens twice on its clock (when the clocks go back)."""
    return local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()


class LocalTimeError(ValueError):
    """What was typed as a local time names no single moment."""


def local_to_utc(text: str, zone: zoneinfo.ZoneInfo) -> str:
    """A date-time typed on ``zone``'s clock as the UTC ISO text a URL keeps
    (``2026-12-05T19:13:07Z``); empty for empty.

    Read by the date filter's own parser (``parse_datetime``), so what the filter takes in UTC
    is taken here in local time; a value naming its own offset keeps it. Refused
    (``LocalTimeError``, never passed on as UTC): text that is no date-time, and a wall time a
    clock change repeats or skips, since which moment was meant is unknown.
    """
    text = text.strip()
    if not text:
        return ""
    try:
        typed = parse_datetime(text)
    except ValueError:
        typed = None
    if typed is None:
        raise LocalTimeError(
            f"{text!r} is not a date and time such as {INPUT_FORMAT_HINT} ({zone.key})."
        )
    try:
        if typed.tzinfo is not None:
            return _utc_iso(typed)
        earlier, later = (typed.replace(tzinfo=zone, fold=fold) for fold in (0, 1))
        if earlier.utcoffset() != later.utcoffset():
            happens = (
                "happens twice" if earlier.utcoffset() > later.utcoffset() else "never happens"
            )
            raise LocalTimeError(
                f"{wall_clock(typed)} {happens} in {zone.key} (the clocks change then); "
                "give the time in UTC instead."
            )
        return _utc_iso(earlier)
    except OverflowError:
        raise LocalTimeError(f"{text!r} has no UTC equivalent.") from None


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
