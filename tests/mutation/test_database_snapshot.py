"""The mutation plugin puts the test database back as it was when its snapshot was taken,
after a test that commits, on both databases: including the rows of immutable tables (the
compression dictionary), which PostgreSQL's statement triggers guard against any UPDATE, even
one matching no row."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from logs.models.compression import CompressionDictionary
from logs.originals.dictionaries import forget, writing_dictionary
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
def test_a_snapshot_puts_back_the_rows_it_was_taken_with_and_only_them(request):
    # What the migrations store may have gone with an earlier test's flush: store it here.
    writing_dictionary(connection)
    Group.objects.get_or_create(name="stored before the snapshot")
    dictionaries = stored_dictionaries()
    groups = sorted(Group.objects.values_list("name", flat=True))
    assert dictionaries and groups
    snapshot = _DatabaseSnapshot(request.config)
    snapshot.take()
    Group.objects.create(name="added by the test")

    try:
        snapshot.restore()

        assert stored_dictionaries() == dictionaries
        assert sorted(Group.objects.values_list("name", flat=True)) == groups
    finally:
        forget()  # the dictionary goes with this test's flush
