"""``{{ moment|portal_time }}``: a time as every page shows it (``logs.display_time``)."""

from django import template

from logs.display_time import current_display_zone, time_html, utc_text

register = template.Library()


@register.filter
def portal_time(value):
    """``2026-12-05 19:13:07 UTC``, with the reader's local time beside it if he chose a zone."""
    return time_html(value, current_display_zone())


@register.filter
def portal_utc(value):
    """``2026-12-05 19:13:07 UTC`` as plain text, for where markup cannot go (a title)."""
    return utc_text(value)
