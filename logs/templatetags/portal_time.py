"""``{{ moment|portal_time }}``: a time as every page shows it (``logs.display_time``)."""

import functools

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from logs.display_time import choosable_time_zones, current_display_zone, time_html, utc_text

register = template.Library()


@register.filter
def portal_time(value):
    """``2026-12-05 19:13:07 UTC``, with the reader's local time beside it if he chose a zone."""
    return time_html(value, current_display_zone())


@register.filter
def portal_utc(value):
    """``2026-12-05 19:13:07 UTC`` as plain text, for where markup cannot go (a title)."""
    return utc_text(value)


@register.simple_tag
def time_zone_options(chosen: str):
    """The ``<option>`` of every choosable zone, ``chosen`` selected.

    Some 600 zones: written by the template language, each option's loop step, comparison and
    escaping cost more than the rest of the changelist's page around them, on every request.
    The options are escaped once per process; a request only marks its chosen one."""
    return mark_safe(
        "".join(
            f"<option selected>{text}</option>" if name == chosen else f"<option>{text}</option>"
            for name, text in _escaped_zone_names()
        )
    )


@functools.cache
def _escaped_zone_names() -> tuple[tuple[str, str], ...]:
    return tuple((name, escape(name)) for name in choosable_time_zones())
