"""The mutation plugin puts the test database back as the migrations left it after a test
that commits, on both databases: including the rows of immutable tables (the compression
dictionary migration 0027 stores), which PostgreSQL's statement triggers guard against any
UPDATE, even one matching no row."""

import pytest
from django.contrib.auth.models import Group

from logs.models.compression import CompressionDictionary
from mutation.plugin import _DatabaseSnapshot


def stored_dictionaries():
    """Each stored dictionary's fields; its time to the millisecond, as Django's JSON
    serialization keeps it (``DjangoJSONEncoder``)."""
    rows = list(CompressionDictionary.objects.order_by("pk").values())
    for row in rows:
        created = row["created_at"]
        row["created_at"] = created.replace(microsecond=created.microsecond // 1000 * 1000)
    return rows


@pytest.mark.django_db(transaction=True)
def test_a_snapshot_puts_back_the_migrations_rows_and_only_them(request):
    migrations_dictionaries = stored_dictionaries()
    migrations_groups = sorted(Group.objects.values_list("name", flat=True))
    assert migrations_dictionaries and migrations_groups
    snapshot = _DatabaseSnapshot(request.config)
    snapshot.take()
    Group.objects.create(name="added by the test")

    snapshot.restore()

    assert stored_dictionaries() == migrations_dictionaries
    assert sorted(Group.objects.values_list("name", flat=True)) == migrations_groups
