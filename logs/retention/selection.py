"""Finding the expired events: a per-category summary, and the next part in date order."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, Min, Q

from logs.exports.selection import keyset_after
from logs.models import AuditEvent


@dataclass
class CategorySummary:
    category: str
    events: int
    oldest: datetime
    newest: datetime


def expired_events(condition: Q):
    return AuditEvent.objects.filter(condition)


def summary_by_category(condition: Q) -> list[CategorySummary]:
    """How many events each category would lose, and their date range."""
    rows = (
        expired_events(condition)
        .order_by()
        .values("category__name")
        .annotate(
            events=Count("id"), oldest=Min("activity_datetime"), newest=Max("activity_datetime")
        )
        .order_by("category__name")
    )
    return [
        CategorySummary(row["category__name"], row["events"], row["oldest"], row["newest"])
        for row in rows
    ]


def next_part(condition: Q, after: tuple[datetime, int] | None, size: int) -> list[tuple]:
    """Up to ``size`` expired events after the (date, id) key ``after``, oldest first, as
    ``(id, activity_datetime, category name)``: one query served by the date index."""
    events = expired_events(condition)
    if after is not None:
        events = events.filter(keyset_after(after, oldest_first=True))
    events = events.order_by("activity_datetime", "id").values_list(
        "id", "activity_datetime", "category__name"
    )
    return list(events[:size])
