"""The order of a sorted column's values is read once per state of its lookup table
(logs.sorting._column_order): kept while the table is unchanged, new rows merged in, and never
kept from inside a transaction. Whatever path gives the order, it is the order a fresh read
gives. The tests commit (``transaction=True``): outside a transaction is where it is kept."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from logs import sorting
from logs.models import AuditEvent
from tests.factories import AuditEventFactory, InitiatorFactory, ServiceFactory

pytestmark = pytest.mark.django_db(transaction=True)

# Names whose order depends on case folding, accents and ties: "Straße" folds to "strasse".
NAMES = [
    ["zoë", "Zoe", "bob"],
    ["Straße", "STRASSE", "Ärger"],
    ["", "İstanbul", "istanbul", "Ångström", "BOB", "alice"],
]
MAKERS = {
    "initiator": lambda name: InitiatorFactory(user_principal_name=name),
    "service": lambda name: ServiceFactory(name=name),
}


@pytest.fixture(autouse=True)
def nothing_kept():
    sorting._orders.clear()
    yield
    sorting._orders.clear()


def kept_order(column: str) -> list:
    return [
        group.value for group in sorting._column_order(sorting.COLUMNS[column], "default").groups
    ]


def fresh_order(column: str) -> list:
    groups = sorting.COLUMNS[column].groups("default")
    return [group.value for group in sorted(groups, key=lambda group: group.key)]


@pytest.mark.parametrize("column", sorted(MAKERS))
def test_the_kept_order_is_the_fresh_order_as_rows_are_added(column):
    for batch in NAMES:
        for name in batch:
            MAKERS[column](name)
        assert kept_order(column) == fresh_order(column)
        # Unchanged table: only its state is asked for.
        with CaptureQueriesContext(connection) as queries:
            assert kept_order(column) == fresh_order(column)
        assert len(queries) == 2  # the state, and fresh_order's own read


@pytest.mark.parametrize("column", sorted(MAKERS))
def test_rows_added_since_are_read_alone_and_merged_in(column):
    for name in NAMES[0]:
        MAKERS[column](name)
    kept_order(column)
    last = max(sorting.COLUMNS[column].lookup.objects.values_list("pk", flat=True))
    for name in NAMES[1]:
        MAKERS[column](name)

    with CaptureQueriesContext(connection) as queries:
        merged = kept_order(column)

    assert merged == fresh_order(column)
    reads = [query["sql"] for query in queries[1:]]
    assert len(reads) == 1 and f"> {last}" in reads[0].replace('"', "")


def test_rows_of_a_transaction_are_never_kept():
    for name in NAMES[0]:
        InitiatorFactory(user_principal_name=name)
    before = kept_order("initiator")

    with pytest.raises(RuntimeError), transaction.atomic():
        InitiatorFactory(user_principal_name="aaron")
        inside = kept_order("initiator")
        assert inside == fresh_order("initiator") and len(inside) == len(before) + 1
        raise RuntimeError("roll back")

    # A row stored after the rollback (SQLite gives it the rolled-back row's id, so the table's
    # count and highest id are what they were inside) is read as it is.
    zed = InitiatorFactory(user_principal_name="zed")
    after = kept_order("initiator")
    assert after == fresh_order("initiator")
    assert set(after) == {*before, zed.pk}


def test_pages_sorted_by_initiator_through_the_api_follow_the_kept_order(admin_user, client):
    """The API's cursor pages (which continue from a kept order) hold every event once, in
    the order of the names the column shows."""
    for batch in NAMES:
        for name in batch:
            AuditEventFactory(initiator=InitiatorFactory(user_principal_name=name))
    AuditEventFactory(initiator=None)
    client.force_login(admin_user)

    seen = []
    url = "/api/v1/events/?ordering=initiator&page_size=2"
    while url:
        page = client.get(url).json()
        seen += [event["id"] for event in page["results"]]
        url = page["next"]

    events = AuditEvent.objects.select_related("initiator")
    expected = sorted(
        events,
        key=lambda event: (
            (event.initiator.name if event.initiator else "").casefold(),
            event.initiator.name if event.initiator else "",
            event.initiator_id or -1,
            -event.activity_datetime.timestamp(),
            -event.pk,
        ),
    )
    assert seen == [event.pk for event in expected]
