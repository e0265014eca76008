"""The target-name filters that compare in any case (Graph's targetResources/any on
displayName) are served by migration 0016's index on both databases, rather than by reading
every target."""

import pytest
from django.db import connection, transaction

from logs.models import Target

pytestmark = pytest.mark.django_db

INDEX = "target_name_any_case_idx"


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            return " ".join(row[3] for row in cursor.fetchall())
        # An empty table is cheapest to read whole; make the planner say which index it
        # would take instead.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return " ".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(
    "condition",
    [{"display_name__iexact": "Payroll Connector"}, {"display_name__istartswith": "Pay"}],
    ids=["whole name", "start"],
)
def test_a_name_in_any_case_is_read_from_the_index(condition):
    targets = Target.objects.filter(**condition).values_list("event_id", flat=True)
    assert INDEX in plan(targets)
