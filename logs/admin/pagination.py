"""A changelist paginator that never counts a whole large table on PostgreSQL.

Counting a million rows on PostgreSQL reads them all (MVCC has no cheap row count). Up to
EXACT_COUNT_LIMIT matches the count is exact and cheap (it stops there); beyond that the
planner's estimate is shown as "about N". SQLite counts from its smallest index quickly, so it
stays exact there.
"""

import json

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

EXACT_COUNT_LIMIT = 10_000


class EstimatedCountPaginator(Paginator):
    is_estimate = False

    @cached_property
    def count(self):
        queryset = self.object_list
        if connections[queryset.db].vendor != "postgresql":
            return queryset.count()
        capped = queryset.order_by()[: EXACT_COUNT_LIMIT + 1].count()
        if capped <= EXACT_COUNT_LIMIT:
            return capped
        self.is_estimate = True
        return max(planner_estimate(queryset), EXACT_COUNT_LIMIT + 1)


def planner_estimate(queryset) -> int:
    """PostgreSQL's estimate of how many rows ``queryset`` returns (EXPLAIN, not executed)."""
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
