"""Reading the events an export holds, chunk by chunk, in the listing's (date, id) order.

Each chunk is one short query "the next N events after the last key" (keyset pagination on
(activity_datetime, id), served by ``event_date_idx``), plus one query for the chunk's targets
and one for their modified properties. So:

- memory holds one chunk, whatever the number of events;
- no query or transaction stays open between chunks (each runs in autocommit), so a client that
  disconnects mid-download, or an export that runs for minutes, holds nothing on the database
  (a server-side cursor over the whole result would keep a transaction open on PostgreSQL for
  as long as the download lasts);
- the number of queries per chunk is fixed, and offsets are never used (an offset re-reads every
  row before it).

Rows are plain tuples rather than model instances: building a model per event, target and
modified property costs several times the query itself at hundreds of thousands of events.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connections
from django.db.models import F, Q

from logs.filters import in_events
from logs.models import ModifiedProperty, Target
from logs.models.events import query_additional_details, query_user_agent
from logs.partitions import partitioned
from logs.utc_text import as_utc_text

CHUNK_SIZE = 2000

# The normalised event as the exports read it, in this order (see EventRow).
EVENT_COLUMNS = {
    "pk": F("id"),
    "activity_datetime": F("activity_datetime"),
    "entra_id": F("entra_id"),
    "service_name": F("service__name"),
    "category_name": F("category__name"),
    "activity_name": F("activity__name"),
    "operation_type": F("operation_type"),
    "result": F("result"),
    "result_reason": F("result_reason"),
    "correlation_id": F("correlation_id"),
    "ip_address": F("initiator_ip_address"),
    "user_agent": query_user_agent(),
    "additional_details": query_additional_details(),
    "source_format": F("source_format"),
    "initiator_kind": F("initiator__kind"),
    "user_object_id": F("initiator__user_object_id"),
    "user_display_name": F("initiator__user_display_name"),
    "user_principal_name": F("initiator__user_principal_name"),
    "user_type": F("initiator__user_type"),
    "home_tenant_id": F("initiator__home_tenant_id"),
    "home_tenant_name": F("initiator__home_tenant_name"),
    "app_id": F("initiator__app_id"),
    "app_display_name": F("initiator__app_display_name"),
    "service_principal_id": F("initiator__service_principal_id"),
    "service_principal_name": F("initiator__service_principal_name"),
}


@dataclass(slots=True)
class PropertyRow:
    name: str
    old_value: str | None
    new_value: str | None


@dataclass(slots=True)
class TargetRow:
    type: str
    object_id: str
    display_name: str
    user_principal_name: str
    group_type: str
    modified_properties: list[PropertyRow] = field(default_factory=list)


@dataclass(slots=True)
class EventRow:
    """One event's normalised fields; ``original`` and ``targets`` only when asked for."""

    pk: int
    activity_datetime: datetime
    entra_id: str
    service_name: str
    category_name: str
    activity_name: str
    operation_type: str
    result: str
    result_reason: str
    correlation_id: str
    ip_address: str
    user_agent: str
    additional_details: list
    source_format: str
    initiator_kind: str | None  # None: the source named no initiator
    user_object_id: str
    user_display_name: str
    user_principal_name: str
    user_type: str
    home_tenant_id: str
    home_tenant_name: str
    app_id: str
    app_display_name: str
    service_principal_id: str
    service_principal_name: str
    original: str = ""
    targets: list[TargetRow] = field(default_factory=list)


def keyset_after(key: tuple[datetime, int], oldest_first: bool) -> Q:
    """Events strictly after ``key`` in the export's order.

    Spelled "date on or past the key's, and past the key" so that the (date, id) index bounds
    the scan instead of the database testing every row against an OR.
    """
    moment, pk = key
    if oldest_first:
        return Q(activity_datetime__gte=moment) & (
            Q(activity_datetime__gt=moment) | Q(activity_datetime=moment, id__gt=pk)
        )
    return Q(activity_datetime__lte=moment) & (
        Q(activity_datetime__lt=moment) | Q(activity_datetime=moment, id__lt=pk)
    )


def _ordering(oldest_first: bool) -> tuple[str, str]:
    return ("activity_datetime", "id") if oldest_first else ("-activity_datetime", "-id")


def newest_boundary(queryset, limit: int):
    """The key of the ``limit``-th newest event of ``queryset``, or None if it holds fewer.

    An oldest-first export under a cap still holds the *newest* ``limit`` events: it starts at
    this key rather than at the oldest event.
    """
    rows = queryset.order_by(*_ordering(False)).values_list("activity_datetime", "id")
    return next(iter(rows[limit - 1 : limit]), None)


def iter_event_rows(
    queryset,
    *,
    oldest_first: bool = False,
    limit: int | None = None,
    chunk_size: int = CHUNK_SIZE,
    with_original: bool = False,
    with_targets=True,
    column_sort=None,
):
    """Yield lists of EventRow, ``chunk_size`` at a time, in the export's order.

    ``queryset`` is the filtered AuditEvent queryset (its ordering is replaced). ``limit`` keeps
    the newest ``limit`` events. ``with_targets`` is True (every event's targets and modified
    properties), False, or a predicate on an EventRow saying which events need them (JSON needs
    them only for events rebuilt from their normalised fields).
    """
    rows = event_values(queryset, with_original=with_original)
    for chunk in _keyset_chunks(rows, oldest_first, limit, chunk_size, column_sort=column_sort):
        yield event_rows(chunk, queryset.db, with_targets=with_targets)


def event_values(queryset, *, with_original: bool = False):
    """``queryset`` as ``values_list`` rows in EventRow's field order, for :func:`event_rows`
    (order and slice it as needed)."""
    columns = dict(EVENT_COLUMNS)
    if with_original:
        columns["original"] = F("original")
    # Prefixed aliases: annotations may not reuse the model's field names.
    rows = queryset.prefetch_related(None).annotate(
        **{f"x_{name}": expression for name, expression in columns.items()}
    )
    return rows.values_list(*(f"x_{name}" for name in columns))


def event_rows(values, using: str = "default", *, with_targets=True) -> list[EventRow]:
    """EventRows of rows from :func:`event_values`; ``with_targets`` as for
    :func:`iter_event_rows` (two more queries, for all the rows' targets)."""
    events = [EventRow(*row) for row in values]
    if with_targets:
        wanted = events if with_targets is True else [e for e in events if with_targets(e)]
        if wanted:
            targets = targets_by_event([event.pk for event in wanted], using)
            for event in wanted:
                event.targets = [
                    TargetRow(*target, [PropertyRow(*prop) for prop in properties])
                    for target, properties in targets.get(event.pk, ())
                ]
    return events


def iter_value_chunks(
    queryset,
    columns: list,
    *,
    key: Callable[[tuple], tuple[datetime, int]],
    oldest_first: bool = False,
    limit: int | None = None,
    chunk_size: int = CHUNK_SIZE,
    column_sort=None,
):
    """Yield lists of tuples ``(id, *columns)``, ``chunk_size`` at a time, in the export's order.

    ``columns`` are expressions whose values need no conversion in Python (text the database
    formats), so rows come straight from the driver; ``key(row)`` gives the row's (date, id)
    for the next chunk's keyset, and is called once per chunk.
    """
    rows = queryset.prefetch_related(None).annotate(
        **{f"x_{number}": column for number, column in enumerate(columns)}
    )
    rows = rows.values_list("id", *(f"x_{number}" for number in range(len(columns))))
    yield from _keyset_chunks(
        rows, oldest_first, limit, chunk_size, key=key, column_sort=column_sort
    )


def iter_listing_events(
    queryset,
    *,
    oldest_first: bool = False,
    limit: int | None = None,
    chunk_size=CHUNK_SIZE,
    column_sort=None,
):
    """Yield lists of AuditEvent loaded as the changelist loads them (lookups joined, targets
    prefetched, the informational flag annotated), for the chosen-columns CSV: its values are
    the changelist's own column functions, so the file shows what the screen shows."""
    if "is_informational" not in queryset.query.annotations:
        queryset = queryset.for_listing()
    yield from _keyset_chunks(queryset, oldest_first, limit, chunk_size, column_sort=column_sort)


def _key(item) -> tuple:
    if isinstance(item, tuple):  # a values_list row: (pk, activity_datetime, ...)
        return item[1], item[0]
    return item.activity_datetime, item.pk


def in_export_order(queryset, oldest_first: bool, limit: int | None = None):
    """``queryset`` in the export's order; under a cap, oldest first, starting at the newest
    ``limit``-th event (the caller still takes only ``limit`` events)."""
    if limit is not None and oldest_first:
        boundary = newest_boundary(queryset, limit)
        if boundary is not None:
            queryset = queryset.filter(
                Q(activity_datetime__gt=boundary[0])
                | Q(activity_datetime=boundary[0], id__gte=boundary[1])
            )
    return queryset.order_by(*_ordering(oldest_first))


def _keyset_chunks(
    queryset, oldest_first: bool, limit: int | None, chunk_size: int, key=_key, column_sort=None
):
    """Lists of up to ``chunk_size`` results of ``queryset``, each list one short query;
    ``key(result)`` is the (date, id) of a result. With ``column_sort`` (logs.sorting), in
    that column's order instead (see _column_chunks)."""
    if column_sort is not None:
        yield from _column_chunks(queryset, column_sort, limit, chunk_size, key)
        return
    ordered = in_export_order(queryset, oldest_first, limit)
    last = None
    remaining = limit
    while remaining is None or remaining > 0:
        size = chunk_size if remaining is None else min(chunk_size, remaining)
        page = ordered if last is None else ordered.filter(keyset_after(last, oldest_first))
        chunk = list(page[:size])
        if not chunk:
            return
        yield chunk
        if len(chunk) < size:
            return
        last = key(chunk[-1])
        if remaining is not None:
            remaining -= len(chunk)


def _column_chunks(queryset, column_sort, limit: int | None, chunk_size: int, key):
    """The newest ``limit`` events of ``queryset`` (those a date-ordered export would hold) in
    the order of ``column_sort``: few, sorted at once and read ``chunk_size`` ids at a time;
    more, a batch of values at a time the same way (logs.sorting.ColumnSort.walk_in_batches),
    or value by value, each value's events newest first in keyset chunks, where a batch holds
    too many events to sort at once."""
    if limit is not None:
        boundary = newest_boundary(queryset, limit)
        if boundary is not None:
            queryset = queryset.filter(
                Q(activity_datetime__gt=boundary[0])
                | Q(activity_datetime=boundary[0], id__gte=boundary[1])
            )
    dated = partitioned(connections[queryset.db])
    keys = column_sort.small_selection(queryset)
    if keys is not None:
        chosen = [(pk, as_utc_text(moment) if dated else None) for _, moment, pk in keys]
        yield from _chunks_of_keys(queryset, chosen, chunk_size)
        return
    for batch_keys, one_value in column_sort.walk_in_batches(queryset, dated=dated):
        if batch_keys is None:
            yield from _keyset_chunks(one_value, False, None, chunk_size, key)
            continue
        yield from _chunks_of_keys(queryset, batch_keys, chunk_size)


def _chunks_of_keys(queryset, keys: list[tuple], chunk_size: int):
    """The events ``keys`` (id, date: see ``logs.filters.event_key``) of ``queryset``, in
    that order, ``chunk_size`` to a query. Where the dates are known each query reads only
    their months' partitions (``logs.filters.InEvents``)."""
    for start in range(0, len(keys), chunk_size):
        wanted = dict(keys[start : start + chunk_size])
        chunk = queryset.order_by().filter(in_events(wanted, queryset.db))
        rows = {_pk(row): row for row in chunk}
        yield [rows[pk] for pk in wanted if pk in rows]


def _pk(item) -> int:
    return item[0] if isinstance(item, tuple) else item.pk


TARGET_COLUMNS = [
    F(name) for name in ("type", "object_id", "display_name", "user_principal_name", "group_type")
]
PROPERTY_COLUMNS = [F("name"), F("old_value"), F("new_value")]
# A chunk's ids are "dense" when they fill at least this share of the span between the lowest
# and the highest; see targets_by_event.
DENSE_SHARE = 0.25


def targets_by_event(
    event_ids: list[int],
    using: str = "default",
    *,
    target_columns: list = TARGET_COLUMNS,
    property_columns: list = PROPERTY_COLUMNS,
) -> dict[int, list[tuple[tuple, list[tuple]]]]:
    """The targets of these events, in source order, as ``(target values, [modified property
    values, ...])`` of the given columns (expressions on Target and ModifiedProperty): two
    queries.

    Events are stored in import order, so a chunk's event ids, and their targets' ids, mostly
    lie close together: each query then reads an id range (one index range scan) and rows of
    other events are skipped here. ``event_id IN (2,000 ids)`` costs far more: Django prepares
    every id in Python, and PostgreSQL answers with 2,000 index probes or a scan of the whole
    table. Sparse ids (a narrow filter) are still read by ``IN``.
    """
    by_event: dict[int, list] = {}
    if not event_ids:
        return by_event
    wanted = set(event_ids)
    targets: dict[int, list[tuple]] = {}
    rows = Target.objects.using(using).filter(ids_condition("event_id", event_ids))
    rows = _values(rows.order_by("event_id", "position"), ["id", "event_id"], target_columns)
    for target_id, event_id, *values in rows:
        if event_id in wanted:
            properties = targets[target_id] = []
            by_event.setdefault(event_id, []).append((tuple(values), properties))
    if not targets:
        return by_event
    target_ids = list(targets)
    if _dense(target_ids):
        condition = ids_condition("target_id", target_ids)
    else:
        condition = ids_condition("target__event_id", event_ids)
    rows = ModifiedProperty.objects.using(using).filter(condition)
    rows = _values(rows.order_by("target_id", "position"), ["target_id"], property_columns)
    for target_id, *values in rows:
        properties = targets.get(target_id)
        if properties is not None:
            properties.append(tuple(values))
    return by_event


def _values(queryset, fields: list[str], columns: list):
    names = {f"x_{number}": column for number, column in enumerate(columns)}
    return queryset.annotate(**names).values_list(*fields, *names)


def _dense(ids: list[int]) -> bool:
    return len(ids) >= DENSE_SHARE * (max(ids) - min(ids) + 1)


def ids_condition(field: str, ids: list[int]) -> Q:
    """Rows whose ``field`` is one of ``ids``, or lies in their range if they are dense (the
    caller then skips the others)."""
    if _dense(ids):
        return Q(**{f"{field}__gte": min(ids), f"{field}__lte": max(ids)})
    return Q(**{f"{field}__in": ids})


def count_events(queryset, limit: int | None = None) -> int:
    """How many events an export of ``queryset`` holds (for a progress bar)."""
    if limit is None:
        return queryset.order_by().count()
    return queryset.order_by()[:limit].count()
