"""Finding the expired events: a per-category summary, and the next part in date order."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, Min, Q

from logs.exports.selection import keyset_after
from logs.models import AuditEvent
from logs.utc_text import UTCDateTimeText, from_utc_text


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
    ``(id, date as UTC text, category name)``: one query served by the date index. The dates
    stay text (``logs.utc_text``): a part's first and last are all that is read of them."""
    events = expired_events(condition)
    if after is not None:
        events = events.filter(keyset_after(after, oldest_first=True))
    events = (
        events.order_by("activity_datetime", "id")
        .annotate(date_text=UTCDateTimeText("activity_datetime"))
        .values_list("id", "date_text", "category__name")
    )
    return list(events[:size])


def part_key(part: list[tuple]) -> tuple[datetime, int]:
    """The (date, id) key of a part's last event, where the next part starts."""
    pk, date_text, _ = part[-1]
    return from_utc_text(date_text), pk


def part_dates(part: list[tuple]) -> tuple[datetime, datetime]:
    """The oldest and newest date of a part."""
    return from_utc_text(part[0][1]), from_utc_text(part[-1][1])
