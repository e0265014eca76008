"""Times in the admin pages, the portal's one way (``logs.display_time``).

``shown_time`` makes a ModelAdmin column or read-only field of a date-time field, so that a list
of access records or import batches shows ``2026-12-05 19:13:07 UTC`` (and the reader's local
time) rather than Django's "Dec. 5, 2026, 7:13 p.m.". ``local_dates_redirect`` turns a date
range typed in the reader's time zone into the UTC a URL keeps.
"""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect

from logs.display_time import (
    INPUT_FORMAT_HINT,
    LocalTimeError,
    as_utc,
    current_display_zone,
    display_zone,
    input_value,
    local_to_utc,
    time_html,
    utc_text,
)

# A date input typed in the reader's zone is named so (``local_since``); the URL keeps ``since``.
LOCAL_PREFIX = "local_"


def shown_time(field: str, description: str):
    """A ModelAdmin method (assign it in the class body) showing ``field`` the portal's way."""

    @admin.display(description=description, ordering=field)
    def show(model_admin, obj):
        return time_html(getattr(obj, field), current_display_zone())

    show.__name__ = f"{field}_shown"
    return show


def date_input(request, name: str, utc_value: str | None, placeholder=None) -> dict:
    """What a template needs for the date input of the filter ``name`` (``since``) whose value in
    the URL is ``utc_value``: shown, and typed, in the reader's display zone if he has one (the
    input is then named ``local_since``), else in UTC; ``placeholder`` (a UTC date-time) the
    same way."""
    zone = display_zone(request)
    try:
        utc = utc_text(utc_value) if zone and utc_value else ""
    except ValueError:
        utc = ""
    return {
        "name": f"{LOCAL_PREFIX}{name}" if zone else name,
        "value": input_value(utc_value or "", zone),
        "zone": zone.key if zone else "UTC",
        "utc": utc,
        "placeholder": (
            input_value(as_utc(placeholder).replace(microsecond=0).isoformat(), zone)
            if placeholder
            else INPUT_FORMAT_HINT
        ),
    }


def local_dates_redirect(request, names=("since", "until")):
    """The same page with ``local_since``/``local_until`` (typed in the reader's display zone)
    as ``since``/``until`` in UTC, or None when the request has none.

    What cannot be read as one moment (no date-time, or a wall time a clock change repeats or
    skips) is never passed on as if it were UTC: the message says what was wrong, and the page
    keeps its previous range.
    """
    local_names = [f"{LOCAL_PREFIX}{name}" for name in names]
    if not any(name in request.GET for name in local_names):
        return None
    zone = display_zone(request)
    query = request.GET.copy()
    converted = {}
    for name, local_name in zip(names, local_names, strict=True):
        if local_name not in query:
            continue
        typed = query.pop(local_name)[-1]
        try:
            # Without a display zone (chosen in another tab meanwhile) the inputs meant UTC.
            converted[name] = typed.strip() if zone is None else local_to_utc(typed, zone)
        except LocalTimeError as error:
            messages.error(request, f"Not applied: {error}")
            converted = None
            break
    if converted is not None:
        for name, value in converted.items():
            if value:
                query[name] = value
            else:
                query.pop(name, None)
        # A custom range replaces a preset.
        query.pop("period", None)
    return HttpResponseRedirect(f"{request.path}?{query.urlencode()}" if query else request.path)
