"""Migration 0034: the initiators' object and service principal ids, and their user principal
name in any case, have indexes on both databases; going back removes all three."""

from django.db import connection

from tests.models.support import leaf_nodes, migrate

BEFORE = [("logs", "0033_target_type_in_position_index")]
ADDED = {"initiator_user_id_idx", "initiator_sp_id_idx", "initiator_upn_any_case_idx"}


def initiator_indexes() -> set[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "logs_initiator")
    return {name for name, info in constraints.items() if info["index"]}


def test_going_back_removes_the_indexes_and_forward_adds_them(transactional_db):
    assert initiator_indexes() >= ADDED
    leaves = leaf_nodes()
    try:
        migrate(BEFORE)
        assert not ADDED & initiator_indexes()
    finally:
        migrate(leaves)
    assert initiator_indexes() >= ADDED
