"""Keyset ("cursor") pagination on the full ordering, e.g. (date, id).

DRF's CursorPagination positions its cursor on the first ordering field only and steps over ties
with an offset, so an event imported between two page requests with the same date as the page
boundary shifts the offset and a row is served twice or never. Here the cursor holds the values of
every ordering field of the boundary row and the next page is "rows strictly after that key", so
pages stay stable however many events arrive, and no page needs a COUNT.

A sort by a column other than the date (``ordering=service``, ...; see logs.sorting) is paged
the same way: the cursor holds the boundary row's value in that column, its date and its id,
and ``ColumnSort.page_after`` reads the rows after that key.
"""

import base64
import binascii
import json
from collections import namedtuple
from datetime import UTC, datetime

from django.core.exceptions import ValidationError as FieldValidationError
from django.db.models import Q
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.utils.urls import replace_query_param

from logs.filters import EVENT_KEY, event_key, joins_paired_events
from logs.models import AuditEvent
from logs.sorting import load_in_order

Cursor = namedtuple("Cursor", ["position", "reverse"])

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


class KeysetCursorPagination(CursorPagination):
    """Pages of ``page_size`` rows after (or, for "previous", before) the cursor's key.

    The ordering comes from the view (``get_cursor_ordering``), so the validated ``ordering``
    filter parameter switches the cursor's direction too. Its fields must make the order total
    (end with a unique field).
    """

    page_size = DEFAULT_PAGE_SIZE
    max_page_size = MAX_PAGE_SIZE
    page_size_query_param = "page_size"
    page_size_query_description = (
        f"Number of results per page: 1 to {MAX_PAGE_SIZE}, default {DEFAULT_PAGE_SIZE}."
    )
    invalid_cursor_message = (
        "Invalid cursor. Use the next or previous link of a response, unchanged."
    )
    ordering = ("-id",)

    def get_page_size(self, request):
        """Reject, rather than clamp, a page size out of range: a client must not get fewer rows
        per page than it asked for without being told."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw, 10)
        except ValueError:
            size = 0
        if size < 1 or size > self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        f"Must be a whole number from 1 to {self.max_page_size}; got {raw!r}."
                    ]
                }
            )
        return size

    def get_ordering(self, request, queryset, view):
        if view is not None and hasattr(view, "get_cursor_ordering"):
            return tuple(view.get_cursor_ordering(request))
        return tuple(self.ordering)

    def paginate_queryset(self, queryset, request, view=None):
        """The page's rows as model instances (the lookups' lists)."""
        return self._paginate(queryset, request, view, fields=None)

    def paginate_rows(self, queryset, request, view, fields: tuple[str, ...]) -> list[dict]:
        """The page's rows as dicts of ``fields`` (``values()``), no model instance: the event
        list (``logs.api.event_rows``). ``fields`` must hold the ordering's fields and, for a
        column sort, the column's: the cursor is read from them."""
        return self._paginate(queryset, request, view, fields=fields)

    def _paginate(self, queryset, request, view, fields):
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.column_sort = (
            view.get_column_sort(request) if hasattr(view, "get_column_sort") else None
        )
        if self.column_sort is not None:
            return self._paginate_by_column(queryset, request, fields)
        self.ordering = self.get_ordering(request, queryset, view)
        self.cursor = self.decode_cursor(request, queryset.model)
        reverse = bool(self.cursor and self.cursor.reverse)

        if reverse:
            queryset = queryset.order_by(*(_flip(field) for field in self.ordering))
        else:
            queryset = queryset.order_by(*self.ordering)
        if self.cursor is not None:
            queryset = queryset.filter(_after(self.ordering, self.cursor.position, reverse))

        if joins_paired_events(queryset.query.where):
            # Every named event is read before the page is cut from them: their keys alone,
            # then the page's rows (see logs.admin.pagination).
            keys = list(queryset.values_list(*event_key(*EVENT_KEY, True))[: self.page_size + 1])
            more = len(keys) > self.page_size
            self.page = load_in_order(queryset, dict(keys[: self.page_size]), fields)
        else:
            if fields is not None:
                queryset = queryset.values(*fields)
            rows = list(queryset[: self.page_size + 1])
            more = len(rows) > self.page_size
            self.page = rows[: self.page_size]
        if reverse:
            self.page.reverse()
            self.has_next, self.has_previous = True, more
        else:
            self.has_next, self.has_previous = more, self.cursor is not None
        return self.page

    def _paginate_by_column(self, queryset, request, fields):
        self.cursor = self._decode_column_cursor(request, queryset.db)
        reverse = bool(self.cursor and self.cursor.reverse)
        after = tuple(self.cursor.position) if self.cursor else None
        rows = self.column_sort.page_after(
            queryset, after, self.page_size + 1, backwards=reverse, fields=fields
        )
        more = len(rows) > self.page_size
        self.page = rows[: self.page_size]
        if reverse:
            self.page.reverse()
            self.has_next, self.has_previous = True, more
        else:
            self.has_next, self.has_previous = more, self.cursor is not None
        return self.page

    def _decode_column_cursor(self, request, using: str):
        """A cursor of a column sort: [value, ISO date, id]; the value must be one the column
        holds (a lookup's id, or a status)."""
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            payload = json.loads(base64.urlsafe_b64decode(encoded.encode("ascii")))
            (value, moment, pk), reverse = payload["p"], payload.get("r", 0)
            moment = _in_utc(AuditEvent._meta.get_field("activity_datetime").to_python(moment))
            if self.column_sort.column.field == "result":
                valid_value = isinstance(value, str) and _storable(value)
            else:
                valid_value = value is None or (isinstance(value, int) and _storable(value))
            if not (
                valid_value
                and isinstance(pk, int)
                and _storable(pk)
                and moment is not None
                and reverse in (0, 1)
                and self.column_sort.knows(value, using)
            ):
                raise ValueError("incomplete or out-of-range key")
        except (
            ValueError,
            TypeError,
            KeyError,
            UnicodeError,
            binascii.Error,
            FieldValidationError,
            OverflowError,  # a date with no UTC equivalent
            RecursionError,  # a cursor is the client's text: it may nest as deep as it likes
        ) as error:
            raise ValidationError(
                {self.cursor_query_param: [self.invalid_cursor_message]}
            ) from error
        return Cursor([value, moment, pk], bool(reverse))

    def get_next_link(self):
        if not self.has_next or not self.page:
            return None
        return self.encode_cursor(Cursor(self._key(self.page[-1]), reverse=False))

    def get_previous_link(self):
        if not self.has_previous or not self.page:
            return None
        return self.encode_cursor(Cursor(self._key(self.page[0]), reverse=True))

    def get_html_context(self):
        return {"previous_url": self.get_previous_link(), "next_url": self.get_next_link()}

    def encode_cursor(self, cursor):
        payload = json.dumps(
            {"p": cursor.position, "r": int(cursor.reverse)}, separators=(",", ":")
        )
        encoded = base64.urlsafe_b64encode(payload.encode("ascii")).decode("ascii")
        return replace_query_param(self.base_url, self.cursor_query_param, encoded)

    def decode_cursor(self, request, model=None):
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            payload = json.loads(base64.urlsafe_b64decode(encoded.encode("ascii")))
            position, reverse = payload["p"], payload.get("r", 0)
            if not isinstance(position, list) or len(position) != len(self.ordering):
                raise ValueError("wrong number of key values")
            values = [
                _in_utc(_field(model, field).to_python(value))
                for field, value in zip(self.ordering, position, strict=True)
            ]
            if reverse not in (0, 1) or not all(_storable(value) for value in values):
                raise ValueError("incomplete or out-of-range key")
        except (
            ValueError,
            TypeError,
            KeyError,
            UnicodeError,
            binascii.Error,
            FieldValidationError,
            OverflowError,  # a date with no UTC equivalent
            RecursionError,  # a cursor is the client's text: it may nest as deep as it likes
        ) as error:
            raise ValidationError(
                {self.cursor_query_param: [self.invalid_cursor_message]}
            ) from error
        return Cursor(values, bool(reverse))

    def _key(self, row):
        """The boundary row's ordering values, as JSON-safe strings or numbers; ``row`` is a
        model instance or a dict (``paginate_rows``)."""
        if self.column_sort is not None:
            value, moment, pk = self.column_sort.key_of(row)
            return [value, moment.isoformat(), pk]
        key = []
        for field in self.ordering:
            name = field.lstrip("-")
            value = row[name] if isinstance(row, dict) else getattr(row, name)
            key.append(value if isinstance(value, int | str) else value.isoformat())
        return key


def _storable(value) -> bool:
    """A key value the database can compare: ids beyond a 64-bit integer would overflow, and
    PostgreSQL refuses a NUL in text."""
    if value is None:
        return False
    if isinstance(value, str):
        return "\x00" not in value
    return not isinstance(value, int) or -(2**63) <= value < 2**63


def _in_utc(value):
    """A date key in UTC, as the database compares it; one with no UTC equivalent (year 1 at
    +05:00) raises OverflowError, and the cursor is refused."""
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def _flip(field: str) -> str:
    return field[1:] if field.startswith("-") else f"-{field}"


def _field(model, ordering_field: str):
    return model._meta.get_field(ordering_field.lstrip("-"))


def _after(ordering, position, reverse: bool) -> Q:
    """Rows strictly after ``position`` in ``ordering`` (before it when ``reverse``).

    Spelled as "first field on or past the key, and strictly past it on some field" so that the
    database uses the (date, id) index for the first condition instead of filtering every row.
    """
    strict = Q()
    equal = Q()
    for field, value in zip(ordering, position, strict=True):
        descending = field.startswith("-") != reverse
        name = field.lstrip("-")
        strict |= equal & Q(**{f"{name}__{'lt' if descending else 'gt'}": value})
        equal &= Q(**{name: value})
    first = ordering[0]
    first_descending = first.startswith("-") != reverse
    bound = Q(**{f"{first.lstrip('-')}__{'lte' if first_descending else 'gte'}": position[0]})
    return bound & strict
