"""A changelist paginator that never counts a whole large result, and cuts pages sorted by a
column other than the date through ``logs.sorting``.

Counting a million rows reads them all (PostgreSQL's MVCC has no cheap row count, and SQLite
counts row by row too, slowly when a filter needs a subquery per row). Up to EXACT_COUNT_LIMIT
matches the count is exact and cheap (it stops there). Beyond that PostgreSQL's planner
estimate is shown as "about N"; SQLite has no estimate, so the page says "more than N".
"""

import json

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

EXACT_COUNT_LIMIT = 10_000


class EstimatedCountPaginator(Paginator):
    is_estimate = False  # the count is PostgreSQL's estimate
    is_lower_bound = False  # the count only says "more than EXACT_COUNT_LIMIT"
    # A logs.sorting.ColumnSort when the page is sorted by a column other than the date: the
    # object list is then in date order, and pages are cut in the column's order.
    column_sort = None

    def page(self, number):
        if self.column_sort is None:
            return super().page(number)
        number = self.validate_number(number)
        offset = (number - 1) * self.per_page
        # The count is exact up to EXACT_COUNT_LIMIT, and says "more" beyond.
        rows = self.column_sort.page(self.object_list, offset, self.per_page, count=self.count)
        return self._get_page(rows, number, self)

    @cached_property
    def count(self):
        queryset = self.object_list
        # Only the ids: the listing's annotations (an EXISTS per event, for the informational
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
