"""Pages of events sorted by a column other than the date: service, category, activity, status
or initiator, then newest first, then by id (so the order is total and paging never skips or
repeats an event).

The column is ordered by what the portal shows in it (a name, a status label), ignoring case,
and the order is decided here, in Python, the same way on every database: collations differ
between PostgreSQL and SQLite, and an initiator's shown name is computed from several fields.
Sorting a million events by a joined name in the database would read and sort them all for
every page. Instead each column's values come from a small table (the lookup tables, or the
few statuses), and a page is read in one of two ways that give the same order:

- few matches (at most ``SMALL_SELECTION``): their (value, date, id) keys are read in one
  query and sorted here, and only the page's events are loaded;
- more: the values are walked in order, each one a query "events with this value, newest
  first" that the column's (value, date) index answers and that stops after the rows the page
  still needs. The API's pages walk from the value of their cursor. The changelist's pages
  (and exports) walk batches of 500 values: each batch's (value, date, id) keys are read in one
  query and sorted here, unless the batch holds more than a bound (then its values are walked
  one by one as above, or in runs, below), so a page deep into a view over tens of thousands
  of initiators skips them a batch at a time. A batch too large to sort at once, and the API's
  walk, read the values of a column of many values (initiators) in growing runs of
  consecutive values, each run's keys read in one query and sorted here
  (``ColumnSort._runs``).

An export reads every match: it walks the values in batches (``walk_in_batches``), each
batch's keys read in one query and sorted here, a batch too large to sort at once read value
by value.

The order of a lookup column's values is kept between requests while its table is unchanged,
and rows stored since are merged in (``_column_order``): a tenant's initiators run to tens of
thousands, and reading and sorting their names took longer than the page's own queries.

The admin changelist cuts pages by offset (``page``), the API by the key of the last row of
the previous page (``page_after``).
"""

import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from django.db import connections
from django.db.models import Count, Max, Q
from django.db.models.sql.where import WhereNode

from logs.filters import EVENT_KEY, InIdsUnestimated, event_key, in_events
from logs.index_hint import through_index
from logs.models import Activity, AuditEvent, Category, Initiator, Service
from logs.partitions import partitioned
from logs.utc_text import UTCDateTimeText, as_utc_text

# Up to this many matches a page is sorted here; beyond, the values are walked (see above).
SMALL_SELECTION = 10_000
# An export reads every match, so it walks the values in batches: the (value, date, id) keys of
# this many consecutive values are read in one query and sorted here, unless they hold more
# than KEYS_PER_BATCH events (then that batch's values are read one by one, newest first). One
# query per value took minutes over a tenant's tens of thousands of initiators.
VALUES_PER_BATCH = 500
KEYS_PER_BATCH = 50_000
# A changelist page walks the same batches to its offset, with a smaller bound: a batch of a
# few busy values (the services) is read value by value through their indexes, as before, after
# one short read of its first keys.
PAGE_KEYS_PER_BATCH = 2_000
# On month partitions, a batch of more values than this is not estimated value by value
# (see _batch_condition): a few dozen services cost little to estimate, 500 initiators more
# than the query.
ESTIMATED_VALUES_UP_TO = 100
# A page's walk reads values in runs (see ColumnSort._runs) only for a column of more values
# than this (the initiators, the activities): a column of few values (the services, the
# statuses) holds many events per value, and a run of them would be read only to be found too
# large.
RUNS_FROM_VALUES = 50
# An API page's runs hold at most this many keys per row the page asks for (and at most
# PAGE_KEYS_PER_BATCH): beyond, the run is read value by value.
RUN_KEYS_PER_ROW = 20
NEWEST_FIRST = ("-activity_datetime", "-id")
OLDEST_FIRST = ("activity_datetime", "id")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_REST = object()  # the group of an open-ended column's other values


@dataclass(frozen=True)
class Group:
    """One value of the sorted column: what events hold (``value``) and its place (``key``)."""

    value: object
    key: tuple


def _name_key(name: str, pk) -> tuple:
    return (name.casefold(), name, -1 if pk is None else pk)


def _lookup_groups(model, using: str, after: int | None = None) -> list[Group]:
    """The lookup's rows by name; with ``after``, only the rows with a higher id."""
    rows = model.objects.using(using)
    if after is not None:
        rows = rows.filter(pk__gt=after)
    return [Group(pk, _name_key(name, pk)) for pk, name in rows.values_list("pk", "name")]


def _initiator_groups(using: str, after: int | None = None) -> list[Group]:
    """Every initiator by the name the "Initiated by" column shows, and the events without one
    (shown empty, so first); with ``after``, only the initiators with a higher id."""
    groups = [] if after is not None else [Group(None, _name_key("", None))]
    rows = Initiator.objects.using(using)
    if after is not None:
        rows = rows.filter(pk__gt=after)
    for pk, *fields in rows.values_list("pk", *Initiator.SHOWN_NAME_FIELDS):
        groups.append(Group(pk, _name_key(Initiator.shown_name(*fields), pk)))
    return groups


def _result_groups(using: str) -> list[Group]:
    """The statuses by their label; none (an empty status) first. The loader stores no other
    value (logs.ingest.graph_shape); a row written around it with another status is still
    listed, after these (see SortColumn.open_ended)."""
    labels = dict(AuditEvent.Result.choices)
    return [Group("", ("", "")), *(Group(v, (label.casefold(), v)) for v, label in labels.items())]


@dataclass(frozen=True)
class SortColumn:
    """A sortable column: the event field holding its value, and where its values come from."""

    key: str
    field: str
    # (using, after=None) -> list[Group], in no particular order; with ``after``, the values of
    # the lookup rows with a higher id only
    groups: object
    # Whether events may hold values the groups do not cover: those events form one more
    # group, after the others (before them, descending), newest first whatever their value.
    open_ended: bool = False
    # The lookup table the groups are read from (None: a fixed list, the statuses).
    lookup: type | None = None
    # For a column whose values each hold few events (the initiators: a tenant's people and
    # applications), the event table's (value, date) index: on SQLite a list of its values is
    # read through it, whatever else is filtered (see ColumnSort._of_values). Not for the
    # other columns: a value of theirs (an activity, a service) may hold a large share of the
    # events, and another filter's index be the narrower.
    few_events_index: str = ""


COLUMNS = {
    "service": SortColumn(
        "service", "service_id", partial(_lookup_groups, Service), lookup=Service
    ),
    "category": SortColumn(
        "category", "category_id", partial(_lookup_groups, Category), lookup=Category
    ),
    "activity": SortColumn(
        "activity", "activity_id", partial(_lookup_groups, Activity), lookup=Activity
    ),
    "status": SortColumn("status", "result", _result_groups, open_ended=True),
    "initiator": SortColumn(
        "initiator",
        "initiator_id",
        _initiator_groups,
        lookup=Initiator,
        few_events_index="event_initiator_date_idx",
    ),
}


@dataclass(frozen=True)
class _Order:
    """A column's groups in ascending order, each value's rank in it, and the values in
    that order (kept with the order: a tenant's initiators are tens of thousands)."""

    groups: list[Group]
    ranks: dict
    values: list


# (database, column key) -> (the lookup table's state, its order). See _column_order.
_orders: dict[tuple, tuple[tuple, _Order]] = {}


def _column_order(column: SortColumn, using: str) -> _Order:
    """The column's values in order, read and sorted once per state of its lookup table.

    A tenant's initiators run to tens of thousands; reading and sorting their names on every
    page took longer than the page's queries. Lookup rows are immutable and never deleted (the
    triggers refuse it), and ids only grow, so the committed table is known by its row count
    and highest id: the order is kept while those stay the same, and rows stored since (ids
    above the highest known) are read alone and merged in. Inside a transaction the table may
    hold rows that are not committed and may yet roll back (their ids then reused by SQLite),
    so there the order is read afresh and not kept.
    """
    if column.lookup is None:
        return _order_of(column.groups(using))
    connection = connections[using]
    if connection.in_atomic_block:
        return _order_of(column.groups(using))
    table = column.lookup.objects.using(using).aggregate(rows=Count("pk"), last=Max("pk"))
    state = (table["rows"], table["last"])
    settings = connection.settings_dict
    cache_key = (
        connection.vendor,
        settings.get("HOST"),
        settings.get("PORT"),
        settings["NAME"],
        column.key,
    )
    cached = _orders.get(cache_key)
    if cached is not None and cached[0] == state:
        return cached[1]
    order = None
    if cached is not None and cached[0][1] is not None and state[0] > cached[0][0]:
        added = column.groups(using, after=cached[0][1])
        # Exactly the rows counted since: nothing was removed or filled in below the highest
        # id (which a table rebuilt around auditportal could do); else read it all again.
        if len(added) == state[0] - cached[0][0]:
            order = _order_of(cached[1].groups, added)
    if order is None:
        order = _order_of(column.groups(using))
    _orders[cache_key] = (state, order)
    return order


def _order_of(groups: list[Group], added: list[Group] | None = None) -> _Order:
    """The order of ``groups``; with ``added``, ``groups`` are in order already and the
    added ones are merged in."""
    if added is None:
        ordered = sorted(groups, key=_group_key)
    else:
        ordered = list(heapq.merge(groups, sorted(added, key=_group_key), key=_group_key))
    return _Order(
        ordered,
        {group.value: rank for rank, group in enumerate(ordered)},
        [group.value for group in ordered],
    )


def _group_key(group: Group) -> tuple:
    return group.key


@dataclass(frozen=True)
class ColumnSort:
    """Events by ``column`` (descending: Z to A), then newest first, then by id."""

    column: SortColumn
    descending: bool = False

    @classmethod
    def named(cls, key: str) -> "ColumnSort":
        """``service`` or ``-service`` (see logs.filters.ORDERINGS)."""
        return cls(COLUMNS[key.lstrip("-")], key.startswith("-"))

    @classmethod
    def for_ordering(cls, key: str | None) -> "ColumnSort | None":
        """The column sort of the ``ordering`` value ``key``; None for a date order."""
        return cls.named(key) if key and key.lstrip("-") in COLUMNS else None

    # -- pages by offset (the changelist) ------------------------------------------------------
    def page(self, queryset, offset: int, limit: int, *, count: int | None = None) -> list:
        """Events ``offset`` to ``offset + limit`` of ``queryset`` in this order, as model
        instances loaded by ``queryset`` (its select_related and prefetches apply). ``count``,
        if known, is how many events ``queryset`` holds (or a number above SMALL_SELECTION)."""
        return load_in_order(queryset, self.page_keys(queryset, offset, limit, count=count))

    def page_keys(
        self, queryset, offset: int, limit: int, *, count: int | None = None
    ) -> dict[int, str | None]:
        """The page's events as ``{id: date}`` in page order (the dates as in ``event_key``:
        UTC text where the events are in month partitions, else None)."""
        dated = partitioned(connections[queryset.db])
        keys = self.small_selection(queryset, count)
        if keys is not None:
            return _dated_keys(keys[offset : offset + limit], dated)
        ids: list[tuple] = []
        skip = offset
        for batch_keys, in_group in self.walk_in_batches(
            queryset, PAGE_KEYS_PER_BATCH, ask_first=True, dated=dated
        ):
            wanted = limit - len(ids)
            if batch_keys is not None:
                if skip >= len(batch_keys):
                    skip -= len(batch_keys)
                    continue
                ids += batch_keys[skip : skip + wanted]
            else:
                in_group = in_group.order_by()
                if skip:
                    # How many of the skipped rows this value holds (counted no further than
                    # needed).
                    held = in_group.values("pk")[:skip].count()
                    if held < skip:
                        skip -= held
                        continue
                rows = in_group.order_by(*NEWEST_FIRST).values_list(*event_key(*EVENT_KEY, dated))
                ids += rows[skip : skip + wanted]
            skip = 0
            if len(ids) >= limit:
                break
        return dict(ids)

    # -- pages by key (the API) ----------------------------------------------------------------
    def page_after(
        self,
        queryset,
        after: tuple | None,
        limit: int,
        *,
        backwards: bool = False,
        fields: tuple[str, ...] | None = None,
    ) -> list:
        """Up to ``limit`` events strictly after the key ``after`` (value, date, id) in this
        order (before it, nearest first, when ``backwards``), as model instances, or as dicts
        of ``fields`` (which then hold ``id``)."""
        dated = partitioned(connections[queryset.db])
        keys = self.small_selection(queryset)
        if keys is not None:
            chosen = _slice_after(keys, after, limit, backwards, self._position_of(queryset.db))
            return load_in_order(queryset, _dated_keys(chosen, dated), fields)
        return load_in_order(
            queryset, self._walk_after(queryset, after, limit, backwards, dated), fields
        )

    def knows(self, value, using: str) -> bool:
        """Whether a page may continue from an event holding ``value`` (a cursor's)."""
        if self.column.open_ended:
            return True
        return value in _column_order(self.column, using).ranks

    def key_of(self, event) -> tuple:
        """The key ``page_after`` continues from: the event's value, date and id; ``event`` is
        a model instance or a dict of fields that hold the column's."""
        if isinstance(event, dict):
            return (event[self.column.field], event["activity_datetime"], event["id"])
        return (getattr(event, self.column.field), event.activity_datetime, event.pk)

    def _walk_after(
        self, queryset, after, limit: int, backwards: bool, dated: bool
    ) -> dict[int, str | None]:
        # The column's order read once for the walk (reading it checks its lookup table).
        column_order = _column_order(self.column, queryset.db)
        values = self._values(queryset.db, column_order)
        if backwards:
            values.reverse()
        start = 0
        if after is not None:
            if after[0] in values:
                start = values.index(after[0])
            elif self.column.open_ended:
                start = values.index(_REST)
            else:
                raise ValueError(f"no {self.column.key} {after[0]!r} to continue from")
        order = OLDEST_FIRST if backwards else NEWEST_FIRST
        keys: list[tuple] = []
        if after is not None:
            # The cursor's own value: only its events beyond the cursor.
            in_group = queryset.filter(self._condition(values[start], values))
            in_group = in_group.filter(_date_after(after[1], after[2], backwards))
            rows = in_group.order_by(*order).values_list(*event_key(*EVENT_KEY, dated))
            keys += rows[:limit]
            start += 1
        # After the cursor's value, read alone, the next values start in a run.
        runs = self._runs(
            queryset,
            values[start:],
            values,
            self._rank_of(queryset.db, column_order),
            # A run of busy values is found too large after reading this many keys: a few
            # pages' worth, not the changelist's bound (a neighbour's lookup reads one row).
            min(PAGE_KEYS_PER_BATCH, RUN_KEYS_PER_ROW * limit),
            dated,
            backwards=backwards,
            first_alone=after is None,
        )
        while len(keys) < limit:
            run_keys, in_group = next(runs, (None, None))
            if run_keys is not None:
                keys += run_keys[: limit - len(keys)]
            elif in_group is not None:
                rows = in_group.order_by(*order).values_list(*event_key(*EVENT_KEY, dated))
                keys += rows[: limit - len(keys)]
            else:
                break
        return dict(keys)

    # -- shared ---------------------------------------------------------------------------------
    def walk_in_batches(
        self,
        queryset,
        keys_per_batch: int | None = None,
        *,
        ask_first: bool = False,
        dated: bool,
    ) -> Iterable[tuple[list[tuple] | None, object]]:
        """Every match of ``queryset`` in this order, a batch of consecutive values at a time:
        ``(keys, None)``, the batch's events as (id, date) in order, the date as UTC text if
        ``dated`` (else None, see ``event_key``), or, for each value of a batch that holds more
        than ``keys_per_batch`` events (KEYS_PER_BATCH unless given), ``(None, the value's
        events)`` to be read newest first.

        ``ask_first``: whether a batch holds too many events is asked of the database, which
        steps over them in its index, before its keys are read; else it is learnt by reading
        up to ``keys_per_batch + 1`` keys into Python. A page's walk asks (its bound is small,
        and a busy value's batch overflows it), and reads a batch too large in runs of values
        (``_runs``: more ``(keys, None)``, each a run's events in order); an export's batches
        mostly fit, and are read at once."""
        cap = KEYS_PER_BATCH if keys_per_batch is None else keys_per_batch
        using = queryset.db
        # The column's order read once for the walk (reading it checks its lookup table).
        order = _column_order(self.column, using)
        values = self._values(using, order)
        rank = self._rank_of(using, order)
        for start in range(0, len(values), VALUES_PER_BATCH):
            batch = values[start : start + VALUES_PER_BATCH]
            in_batch = self._of_values(queryset, batch, values, dated)
            too_many = ask_first and in_batch[cap : cap + 1].exists()
            if not too_many:
                # The dates as UTC text: they are only compared, and converting each of up to
                # ``cap`` of them to a datetime took longer than the query.
                keys = list(
                    in_batch.annotate(date_text=UTCDateTimeText("activity_datetime")).values_list(
                        self.column.field, "date_text", "pk"
                    )[: cap + 1]
                )
                too_many = len(keys) > cap
            if too_many:
                if ask_first:
                    yield from self._runs(queryset, batch, values, rank, cap, dated)
                else:
                    for value in batch:
                        yield None, queryset.filter(self._condition(value, values))
                continue
            if keys:
                # Newest first within a value, then the values in order: two stable sorts, as
                # a text date cannot be negated in one key.
                keys.sort(key=lambda key: (key[1], key[2]), reverse=True)
                keys.sort(key=lambda key: rank(key[0]))
                yield [(pk, moment if dated else None) for _, moment, pk in keys], None

    def _runs(
        self,
        queryset,
        walk: list,
        values: list,
        rank,
        cap: int,
        dated: bool,
        *,
        backwards: bool = False,
        first_alone: bool = True,
    ) -> Iterable[tuple[list[tuple] | None, object]]:
        """The consecutive values ``walk`` (of ``values``, all of them in order) as a page reads
        them: as ``walk_in_batches`` yields, ``(keys, None)`` for a run of values read and
        sorted at once, ``(None, the value's events)`` for a value to be read newest first
        (oldest first when ``backwards``, the values then walked in reverse).

        The first value is read alone (unless not ``first_alone``: a page after a cursor has
        read the cursor's value alone). Then runs of consecutive values, two at first, each
        twice the last while its keys stay within half of ``cap``, are read in one query each: a
        tenant's initiators hold a few events each, and a page would otherwise read dozens of
        them one query each (on month partitions, each query is planned against every
        partition). A run that holds more than ``cap`` events is read value by value, and the
        runs start again at two: busy values are read through their index, newest first, and
        stop after a page. A column of at most RUNS_FROM_VALUES values is read value by value."""
        if len(values) <= RUNS_FROM_VALUES:
            for value in walk:
                yield None, queryset.filter(self._condition(value, values))
            return
        field = self.column.field
        index, size = 0, 1 if first_alone else 2
        while index < len(walk):
            run = walk[index : index + size]
            if size == 1:
                yield None, queryset.filter(self._condition(run[0], values))
                index, size = index + 1, 2
                continue
            in_run = self._of_values(queryset, run, values, dated)
            keys = list(
                in_run.annotate(date_text=UTCDateTimeText("activity_datetime")).values_list(
                    field, "date_text", "pk"
                )[: cap + 1]
            )
            if len(keys) > cap:
                for value in run:
                    yield None, queryset.filter(self._condition(value, values))
                index, size = index + size, 2
                continue
            if keys:
                # Within a value by date then id, then the values in the walk's order: two
                # stable sorts, as a text date cannot be negated in one key.
                keys.sort(key=lambda key: (key[1], key[2]), reverse=not backwards)
                keys.sort(key=lambda key: rank(key[0]), reverse=backwards)
                yield [(pk, moment if dated else None) for _, moment, pk in keys], None
            # Twice as many values next, unless this run already held half the bound.
            grown = size * 2 if 2 * len(keys) <= cap else size
            index, size = index + size, min(grown, VALUES_PER_BATCH)

    def _of_values(self, queryset, batch: list, values: list, dated: bool):
        """The events of ``queryset`` holding any value of ``batch`` (of ``values``, all of
        them), in no order. For a column whose values each hold few events (the initiators),
        when it has more than RUNS_FROM_VALUES values, read through its (value, date) index on
        SQLite (``logs.index_hint``), so that the work is bounded by the batch's own events:
        without statistics SQLite read a run of a few initiators under a category filter by
        walking every event of the category, once per run."""
        in_batch = queryset.filter(self._batch_condition(batch, values, dated)).order_by()
        if not self.column.few_events_index or len(values) <= RUNS_FROM_VALUES:
            return in_batch
        return through_index(in_batch, self.column.few_events_index)

    def _batch_condition(self, batch: list, values: list, partitioned: bool) -> Q:
        """ "The events holding any value of ``batch``" (``values``: all of them, in order).
        On month partitions (``partitioned``) a lookup column's list of more than
        ESTIMATED_VALUES_UP_TO values is read by the database at run time, not estimated
        value by value against every partition (``logs.filters.InIdsUnestimated``)."""
        field = self.column.field
        listed = [value for value in batch if value is not None and value is not _REST]
        if partitioned and self.column.lookup is not None and len(listed) > ESTIMATED_VALUES_UP_TO:
            condition = Q(InIdsUnestimated(field, listed))
        else:
            condition = Q(**{f"{field}__in": listed})
        if None in batch:
            condition |= Q(**{f"{field}__isnull": True})
        if _REST in batch:
            condition |= self._condition(_REST, values)
        return condition

    def _values(self, using: str, order: _Order | None = None) -> list:
        """The column's values in this order, with ``_REST`` for an open-ended column's other
        values where they belong, and None (no value) only if an event holds none. ``order``:
        the column's order, if read already."""
        order = order or _column_order(self.column, using)
        values = order.values[::-1] if self.descending else list(order.values)
        if None in order.ranks and not self._holds_null(using):
            values.remove(None)
        if self.column.open_ended:
            values = [_REST, *values] if self.descending else [*values, _REST]
        return values

    def _condition(self, value, values: list) -> Q:
        field = self.column.field
        if value is _REST:
            return ~Q(**{f"{field}__in": [other for other in values if other is not _REST]})
        return Q(**{field: value})

    def _holds_null(self, using: str) -> bool:
        """Whether any stored event leaves the column empty (no initiator).

        Asked of the whole table, which the column's index answers at once. Filtered, "no
        initiator and category X" may be planned on the category's index instead (SQLite
        estimates ``IS NULL`` poorly) and read every event of the category to find none, before
        the walk reaches the first initiator that has events."""
        return (
            AuditEvent.objects.using(using)
            .filter(**{f"{self.column.field}__isnull": True})
            .exists()
        )

    def _rank_of(self, using: str, order: _Order | None = None):
        """value → a number that compares in this order; a value outside the groups (an
        open-ended column's rest) takes the rest's place. ``order``: as for ``_values``."""
        ranks = (order or _column_order(self.column, using)).ranks
        last = len(ranks) - 1
        if self.descending:
            rest = -1

            def rank(value):
                held = ranks.get(value)
                return rest if held is None else last - held
        else:
            rest = len(ranks)

            def rank(value):
                return ranks.get(value, rest)

        return rank

    def _position_of(self, using: str):
        """(value, date, id) → a tuple that compares in this order."""
        rank = self._rank_of(using)

        def position(key) -> tuple:
            value, moment, pk = key
            return (rank(value), -((moment - _EPOCH) // _MICROSECOND), -pk)

        return position

    def small_selection(self, queryset, count: int | None = None) -> list[tuple] | None:
        """The (value, date, id) of every match in this order, if there are few; else None.
        ``count`` (see ``page``) saves asking how many there are."""
        if count is None:
            if queryset.order_by()[SMALL_SELECTION : SMALL_SELECTION + 1].exists():
                return None
        elif count > SMALL_SELECTION:
            return None
        rows = list(
            queryset.order_by().values_list(self.column.field, "activity_datetime", "pk")[
                : SMALL_SELECTION + 1
            ]
        )
        if len(rows) > SMALL_SELECTION:
            return None
        rows.sort(key=self._position_of(queryset.db))
        return rows


def _date_after(moment, pk, backwards: bool) -> Q:
    """Within one value: rows after (date, id) newest first; before it when ``backwards``."""
    if backwards:
        return Q(activity_datetime__gt=moment) | Q(activity_datetime=moment, id__gt=pk)
    return Q(activity_datetime__lt=moment) | Q(activity_datetime=moment, id__lt=pk)


def _slice_after(keys: list[tuple], after, limit: int, backwards: bool, position) -> list[tuple]:
    """The (value, date, id) keys of the page after ``after`` (before it when ``backwards``,
    nearest first)."""
    if after is None:
        return keys[:limit] if not backwards else keys[-limit:][::-1]
    boundary = position(after)
    if backwards:
        before = [key for key in keys if position(key) < boundary]
        return before[-limit:][::-1]
    following = [key for key in keys if position(key) > boundary]
    return following[:limit]


def _dated_keys(rows: list[tuple], dated: bool) -> dict[int, str | None]:
    """``{id: date}`` of (value, date, id) rows, in their order; the date as ``event_key``
    reads it."""
    return {pk: as_utc_text(moment) if dated else None for _, moment, pk in rows}


def load_in_order(queryset, ids, fields: tuple[str, ...] | None = None) -> list:
    """The events ``ids``, loaded through ``queryset`` (its select_related, prefetches and
    annotations), in the order of ``ids``: model instances, or dicts of ``fields``. ``ids`` is
    a list of ids, or ``{id: date}`` (``event_key``): where the dates are known the load
    reads only their months' partitions (``logs.filters.InEvents``); by id alone, a few
    events were planned against every month's partition and looked for in each.

    The ids were chosen through the queryset's filters, so they are loaded by primary key
    alone: with the filters repeated, SQLite may plan the load on a filter's index (say, the
    category's) and read every event of the category to find the page's fifty. A filter that
    joined another table keeps its condition, so the join cannot widen or narrow the rows."""
    if not ids:
        return []
    loading = queryset.order_by()
    query = loading.query
    if sum(1 for count in query.alias_refcount.values() if count) <= 1:
        query.where = WhereNode()
    keys = ids if isinstance(ids, dict) else dict.fromkeys(ids)
    loading = loading.filter(in_events(keys, queryset.db))
    if fields is None:
        by_id = {event.pk: event for event in loading}
    else:
        by_id = {row["id"]: row for row in loading.values(*fields)}
    return [by_id[pk] for pk in ids if pk in by_id]
