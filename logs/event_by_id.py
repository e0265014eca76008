"""One event by its id, read from its month's partition where the events are partitioned.

On PostgreSQL's month partitions (logs.partitions) a lookup by id alone is planned against
every month's partition, which grows with the months kept. An event's targets hold a copy of
its date (``Target.event_datetime``), read through their (event, position) index: with it the
lookup names the month and reads one partition. Without a target, or with a copy that names
another month (``verify_audit_log`` reports such a copy), the event is looked up by id alone,
so a copy can only cost time, never hide an event.
"""

from django.db import connections

from logs.models import Target
from logs.partitions import partitioned

# The largest id the event table's bigint column holds.
LARGEST_ID = 2**63 - 1


def event_id_in(text) -> int | None:
    """The event id a URL gives (``/…/123/``), or None when it names none: ASCII digits only
    (``int()`` also reads "٣", and ``isdigit()`` also passes "²", which ``int()`` refuses), and
    no larger than the column holds."""
    text = str(text)
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if number <= LARGEST_ID else None


def event_by_id(queryset, pk: int):
    """The event ``pk`` of ``queryset`` (an event queryset, with what it selects and
    prefetches), or None."""
    if partitioned(connections[queryset.db]):
        copies = (
            Target.objects.using(queryset.db)
            .filter(event_id=pk, event_datetime__isnull=False)
            .order_by()
            .values_list("event_datetime", flat=True)
        )
        moment = next(iter(copies[:1]), None)
        if moment is not None:
            found = _first(queryset.filter(pk=pk, activity_datetime=moment))
            if found is not None:
                return found
    return _first(queryset.filter(pk=pk))


def _first(queryset):
    # Unordered: first() would order by id, and ordering one row makes PostgreSQL weigh the
    # ordered paths of every partition it reads.
    return next(iter(queryset.order_by()[:1]), None)
