"""The target-name filters that compare in any case (Graph's targetResources/any on
displayName) are served by migration 0016's index on both databases, rather than by reading
every target."""

import pytest

from logs.models import Target
from tests.support import query_plan

pytestmark = pytest.mark.django_db

INDEX = "target_name_any_case_idx"


def plan(queryset) -> str:
    return query_plan(*queryset.query.sql_with_params())


@pytest.mark.parametrize(
    "condition",
    [{"display_name__iexact": "Payroll Connector"}, {"display_name__istartswith": "Pay"}],
    ids=["whole name", "start"],
)
def test_a_name_in_any_case_is_read_from_the_index(condition):
    targets = Target.objects.filter(**condition).values_list("event_id", flat=True)
    assert INDEX in plan(targets)
