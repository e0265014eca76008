"""The database's copies of the digests are as immutable as the events they cover: raw SQL
cannot change or delete one on either database (the outside copies catch it when the
triggers are switched off first: see test_tampering)."""

import pytest
from django.db import DatabaseError, connection, transaction

from logs.models import ChainDigest
from tests.retention.support import store_events

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE logs_chaindigest SET events = events + 1",
        "DELETE FROM logs_chaindigest",
    ],
)
def test_raw_sql_cannot_change_or_delete_a_digest(signing, statement):
    store_events(1, 2, 3)
    before = list(ChainDigest.objects.order_by("pk").values())
    assert before, "the import wrote no digest"
    with (
        pytest.raises(DatabaseError, match="immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert list(ChainDigest.objects.order_by("pk").values()) == before
