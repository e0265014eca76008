"""Initiators are found through indexes (migration 0034), not by reading every initiator: by
any of their three ids, and by user principal name in any case (Graph's ``eq`` and
``startswith`` on ``initiatedBy/user/userPrincipalName``)."""

import pytest
from django.db import connection

from logs.filters import initiators_matching
from logs.models import Initiator
from tests.support import query_plan

pytestmark = pytest.mark.django_db


def plan(queryset) -> str:
    return query_plan(*queryset.query.sql_with_params())


@pytest.mark.parametrize(
    ("condition", "index"),
    [
        ({"user_object_id": "8a1f2b9e-3c4d-4e5f-9a0b-1c2d3e4f5a6b"}, "initiator_user_id_idx"),
        ({"service_principal_id": "0f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f"}, "initiator_sp_id_idx"),
        ({"user_principal_name__iexact": "Falk@Contoso.com"}, "initiator_upn_any_case_idx"),
        ({"user_principal_name__istartswith": "FALK"}, "initiator_upn_any_case_idx"),
    ],
    ids=["object id", "service principal id", "UPN in any case", "UPN start in any case"],
)
def test_an_initiator_is_read_from_an_index(condition, index):
    assert index in plan(Initiator.objects.filter(**condition).values_list("pk", flat=True))


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite reads a part of a name by scanning: it has no trigram index",
)
def test_a_name_filter_combines_the_name_and_id_indexes_on_postgresql():
    """A part of a name or a whole id: every branch of the condition has its index, so
    PostgreSQL combines them rather than reading every initiator."""
    found = plan(initiators_matching("falk").values_list("pk", flat=True))
    for index in ("initiator_search_trgm_idx", "initiator_user_id_idx", "initiator_sp_id_idx"):
        assert index in found
