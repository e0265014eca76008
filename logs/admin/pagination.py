"""A changelist paginator that never counts a whole large result, cuts pages sorted by a
column other than the date through ``logs.sorting``, and counts and cuts a list of events
named as (id, date) pairs from their keys.

Counting a million rows reads them all (PostgreSQL's MVCC has no cheap row count, and SQLite
counts row by row too, slowly when a filter needs a subquery per row). Up to EXACT_COUNT_LIMIT
matches the count is exact and cheap (it stops there). Beyond that PostgreSQL's planner
estimate is shown as "about N"; SQLite has no estimate, so the page says "more than N". A list
of paired events is counted exactly: its keys, at most the 20,000 a filter gathers, are read
whole anyway.
"""

import json

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

from logs.filters import EVENT_KEY, event_key, joins_paired_events
from logs.sorting import load_in_order

EXACT_COUNT_LIMIT = 10_000


class EstimatedCountPaginator(Paginator):
    is_estimate = False  # the count is PostgreSQL's estimate
    is_lower_bound = False  # the count only says "more than EXACT_COUNT_LIMIT"
    # A logs.sorting.ColumnSort when the page is sorted by a column other than the date: the
    # object list is then in date order, and pages are cut in the column's order.
    column_sort = None

    def page(self, number):
        if self.column_sort is None:
            if self.paired_keys is not None:
                return self._page_of_paired(number)
            return super().page(number)
        number = self.validate_number(number)
        offset = (number - 1) * self.per_page
        # The count is exact up to EXACT_COUNT_LIMIT, and says "more" beyond.
        rows = self.column_sort.page(self.object_list, offset, self.per_page, count=self.count)
        return self._get_page(rows, number, self)

    @cached_property
    def paired_keys(self) -> list[tuple] | None:
        """Where the list names its events as (id, date) pairs (``InEvents``): every event's
        (id, date) key, in the list's order. Else None.

        Joined as pairs, every named event is read before a page is sorted out of them: the
        count read them all, and the page read them all again, each joined to its service,
        category, activity and initiator, thousands of joins for a page of fifty. Their keys
        alone, read once from the event table, give both the count and the page's events
        (``_page_of_paired``). They are at most the ids a filter gathers
        (``logs.filters.MAX_ID_LIST``)."""
        if not joins_paired_events(self.object_list.query.where):
            return None
        return list(self.object_list.values_list(*event_key(*EVENT_KEY, True)))

    def _page_of_paired(self, number):
        """The page's events, loaded in their months by their keys, in the list's order."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        keys = dict(self.paired_keys[bottom : bottom + self.per_page])
        return self._get_page(load_in_order(self.object_list, keys), number, self)

    @cached_property
    def count(self):
        if self.paired_keys is not None:
            return len(self.paired_keys)
        queryset = self.object_list
        # Only the ids: the listing's annotations (a subquery per event, for the informational
        # column) would otherwise be computed for every counted event.
        capped = queryset.order_by().values("pk")[: EXACT_COUNT_LIMIT + 1].count()
        if capped <= EXACT_COUNT_LIMIT:
            return capped
        if connections[queryset.db].vendor == "postgresql":
            self.is_estimate = True
            return max(planner_estimate(queryset), EXACT_COUNT_LIMIT + 1)
        self.is_lower_bound = True
        return capped


def planner_estimate(queryset) -> int:
    """PostgreSQL's estimate of how many rows ``queryset`` returns (EXPLAIN, not executed)."""
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
