"""Whether each source is collecting: for the admin, ``collect_audit_logs --check`` and the
warning banner every portal page shows when a source has not succeeded for a day (a setting),
long before Entra's 7 or 30 days of retention run out."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import DatabaseError
from django.utils import timezone

from logs.collection.sources import stale_after
from logs.display_time import utc_text
from logs.models import CollectionSource


@dataclass
class Health:
    healthy: bool
    problem: str = ""


def lag(source: CollectionSource, now: datetime | None = None) -> timedelta | None:
    """The age of the newest event collected from the source."""
    if source.newest_event_at is None:
        return None
    return (now or timezone.now()) - source.newest_event_at


def is_stale(source: CollectionSource, now: datetime) -> bool:
    """No success for longer than the setting (counted from its creation before a first)."""
    since = source.last_success_at or source.created_at
    return source.enabled and now - since > stale_after()


def health(source: CollectionSource, now: datetime | None = None) -> Health:
    now = now or timezone.now()
    if not source.enabled:
        return Health(True, "disabled")
    if is_stale(source, now):
        if source.last_success_at is None:
            return Health(False, "has never collected successfully")
        return Health(False, f"no success for {describe(now - source.last_success_at)}")
    if source.last_error_at and (
        source.last_success_at is None or source.last_error_at > source.last_success_at
    ):
        return Health(False, f"last run failed: {source.last_error.splitlines()[0][:300]}")
    if source.last_success_at is None:
        return Health(False, "has not run yet")
    return Health(True)


def describe(age: timedelta) -> str:
    hours = age.total_seconds() / 3600
    if hours < 1:
        return f"{int(age.total_seconds() // 60)} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


def stale_sources() -> list[CollectionSource]:
    now = timezone.now()
    return [s for s in CollectionSource.objects.filter(enabled=True) if is_stale(s, now)]


def collection_banner(request):
    """Context processor: the sources that have not succeeded for too long, for the banner in
    every admin page (logs/templates/admin/base_site.html)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    try:
        stale = stale_sources()
    except DatabaseError:
        return {}  # a page must still render when the database cannot answer this
    if not stale:
        return {}
    return {
        "stale_collection_sources": [
            {"name": source.name, "last_success": utc_text(source.last_success_at) or "never"}
            for source in stale
        ],
        "collection_stale_hours": int(stale_after().total_seconds() // 3600),
    }
