"""Links from an answer to its events: the changelist and the API, resolved once per view."""

from datetime import datetime
from functools import lru_cache

from django.urls import get_script_prefix, get_urlconf, reverse

from logs.insights.days import iso_utc


def event_ref(event_id: int, when: datetime) -> dict:
    return {
        "event_id": event_id,
        "activity_datetime": iso_utc(when),
        "url": _event_url("admin:logs_auditevent_change", event_id),
        "api_url": _event_url("api:event-detail", event_id),
    }


def list_url(view_name: str) -> str:
    return _resolved(view_name, None, get_script_prefix(), get_urlconf())


def _event_url(view_name: str, event_id: int) -> str:
    """``reverse(view_name, args=[event_id])``, resolved once per view: a report links to
    hundreds of events, and resolving each took a tenth of its time."""
    template = _resolved(view_name, _URL_PLACEHOLDER, get_script_prefix(), get_urlconf())
    return template.replace(str(_URL_PLACEHOLDER), str(event_id))


_URL_PLACEHOLDER = 918273645


@lru_cache(maxsize=32)
def _resolved(view_name: str, argument, script_prefix: str, urlconf) -> str:
    """``reverse``'s answer, kept per script prefix and URLconf (what else it depends on)."""
    return reverse(view_name, args=[argument] if argument is not None else None)
