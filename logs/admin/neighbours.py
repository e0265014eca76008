"""The events before and after one event in a filtered, sorted changelist: keyset, never offset.

The detail page's *Previous* and *Next* follow the list the reader came from. Finding an event's
position by counting the rows before it reads them all, as an offset does; instead each
neighbour is the first row past the event's own sort key in the list's order (or its reverse):
one query that starts at the key in the index serving that order and stops at the first match.
"""

import functools
import operator

from django.core.exceptions import FieldDoesNotExist
from django.db import connections
from django.db.models import F, OrderBy, Q

from logs.partitions import month_bounds, month_of, partitioned

NOTHING = Q(pk__in=[])


def neighbours(queryset, row) -> tuple[int | None, int | None]:
    """The ids of the rows before and after ``row`` (a model instance) in ``queryset``'s
    order, or (None, None) when that order is not a plain list of fields (nothing is guessed).

    The row's sort key is read from the instance, following its relations, rather than looked
    up again by id: on a month-partitioned event table a lookup by id alone is planned against
    every partition. For the same reason, in a list sorted by date first, each neighbour is
    looked for in the row's own month before the months beyond (``_same_month``)."""
    terms = _order_terms(queryset)
    if terms is None:
        return None, None
    paths = [path for path, _ in terms]
    key = [_value_at(row, path) for path in paths]
    nullable = [_may_be_null(queryset.model, path) for path in paths]
    nulls_largest = connections[queryset.db].vendor == "postgresql"
    after = _past(terms, key, nullable, nulls_largest, forward=True)
    before = _past(terms, key, nullable, nulls_largest, forward=False)
    month = _same_month(queryset, terms, key)
    following = _first_id(queryset.filter(after), month)
    preceding = _first_id(queryset.filter(before).reverse(), month)
    return preceding, following


def _first_id(rows, month: Q | None):
    """The first row's id, looked for within ``month`` first when there is one: in an order
    by date, a row past the key in the key's month comes before every row of another month."""
    if month is not None:
        found = rows.filter(month).values_list("pk", flat=True).first()
        if found is not None:
            return found
    return rows.values_list("pk", flat=True).first()


def _same_month(queryset, terms, key) -> Q | None:
    """The key's UTC month, as a condition, when the order is by the event date first and the
    events are in month partitions (logs.partitions): the search past the key then reads one
    partition where it would plan every partition from the key's month to the last."""
    if terms[0][0] != "activity_datetime" or key[0] is None:
        return None
    if not partitioned(connections[queryset.db]):
        return None
    start, end = month_bounds(month_of(key[0]))
    return Q(activity_datetime__gte=start, activity_datetime__lt=end)


def _value_at(row, path: str):
    """The value ``path`` ("category__name") names for ``row``, as ``values_list`` gives it:
    None past an empty relation."""
    value = row
    for part in path.split("__"):
        if value is None:
            return None
        value = getattr(value, part)
    return value


def _order_terms(queryset) -> list[tuple[str, bool]] | None:
    """``[(field path, descending), ...]`` of the queryset's order; None for anything but
    fields holding plain values (an expression, or a relation sorted by its model's order)."""
    ordering = queryset.query.order_by or queryset.model._meta.ordering
    terms = []
    for term in ordering:
        if isinstance(term, str):
            path, descending = term.lstrip("-"), term.startswith("-")
        elif isinstance(term, OrderBy) and isinstance(term.expression, F):
            if term.nulls_first or term.nulls_last:
                return None
            path, descending = term.expression.name, term.descending
        else:
            return None
        if path == "pk":
            path = queryset.model._meta.pk.name
        if not _is_plain_value(queryset.model, path):
            return None
        terms.append((path, descending))
    if not terms or terms[-1][0] != queryset.model._meta.pk.name:
        return None  # without the id last the order is not total: neighbours would be a guess
    return terms


def _is_plain_value(model, path: str) -> bool:
    opts = model._meta
    parts = path.split("__")
    for number, part in enumerate(parts):
        try:
            field = opts.get_field(part)
        except FieldDoesNotExist:
            return False
        if number == len(parts) - 1:
            return not field.is_relation
        if not field.is_relation or field.many_to_many or field.one_to_many:
            return False
        opts = field.related_model._meta
    return False


def _past(terms, key, nullable: list[bool], nulls_largest: bool, *, forward: bool) -> Q:
    """Rows past ``key`` in the order ``terms`` (forward), or before it (not forward);
    ``nullable`` says which of the terms' fields may be NULL."""
    # Lexicographic: past on the first field, or equal on it and past on the second, ...
    alternatives = []
    same_so_far = Q()
    for (path, descending), value, may_be_null in zip(terms, key, nullable, strict=True):
        larger = forward != descending
        alternatives.append(same_so_far & _beyond(path, value, larger, nulls_largest, may_be_null))
        same_so_far &= Q(**{f"{path}__isnull": True}) if value is None else Q(**{path: value})
    condition = functools.reduce(operator.or_, alternatives)
    # The same rows, bounded on the first field alone: the index serving the order starts there
    # instead of filtering its way from one end.
    first_path, first_descending = terms[0]
    if not nullable[0]:
        lookup = "gte" if forward != first_descending else "lte"
        condition &= Q(**{f"{first_path}__{lookup}": key[0]})
    return condition


def _beyond(path: str, value, larger: bool, nulls_largest: bool, may_be_null: bool) -> Q:
    """Rows whose ``path`` sorts strictly after ``value`` (larger) or before it, where the
    database sorts NULL as the largest value (PostgreSQL) or the smallest (SQLite)."""
    if value is None:
        # Beyond NULL lie the values on the side NULL is not.
        return Q(**{f"{path}__isnull": False}) if larger != nulls_largest else NOTHING
    compared = Q(**{f"{path}__{'gt' if larger else 'lt'}": value})
    if may_be_null and larger == nulls_largest:
        return compared | Q(**{f"{path}__isnull": True})
    return compared


def _may_be_null(model, path: str) -> bool:
    """Whether ``path`` can be NULL in a row (a path through a relation can, by its join)."""
    return "__" in path or model._meta.get_field(path).null
