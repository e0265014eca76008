"""Pages of events named as (id, date) pairs (``logs.filters.InEvents``, many events over many
months on a partitioned database) are read by their keys first, then loaded
(``logs.admin.pagination``). Every page must hold exactly the events, in exactly the order,
that the same page holds when the events are named by a plain list."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from logs import filters
from logs.admin import pagination
from logs.admin.events import AuditEventAdmin
from tests.factories import AuditEventFactory, TargetFactory
from tests.support import CHANGELIST, EVENTS_URL

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_only]

PER_PAGE = 4
# Eight events over several months, two of them at one instant (the id decides their order),
# fourth and fifth both ways: the two fall on either side of a page's end.
MOMENTS = [
    datetime(2023, 11, 30, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2023, 12, 1, tzinfo=UTC),
    datetime(2024, 1, 15, 8, tzinfo=UTC),
    datetime(2024, 3, 15, 12, tzinfo=UTC),
    datetime(2024, 3, 15, 12, tzinfo=UTC),
    datetime(2024, 5, 2, tzinfo=UTC),
    datetime(2024, 7, 1, 8, 30, 0, 123456, tzinfo=UTC),
    datetime(2024, 7, 1, 8, 30, 0, 123456, tzinfo=UTC) + timedelta(microseconds=1),
]
# The eight events are in six months (8 x 6 = 48): joined as pairs. The five events a page reads
# (four, and one to know there is a next page) are in at most five (25): listed.
PAIRED_ALL_NOT_A_PAGE = 26


@pytest.fixture
def named(monkeypatch):
    """The events a search names, among others it does not."""
    monkeypatch.setattr(AuditEventAdmin, "list_per_page", PER_PAGE)
    monkeypatch.setattr(filters, "PAIRED_OVER_MONTHS", 0)
    events = [AuditEventFactory(activity_datetime=moment) for moment in MOMENTS]
    for event in events:
        TargetFactory(event=event, display_name="Paired Person")
    for moment in MOMENTS[::3]:
        AuditEventFactory(activity_datetime=moment)
    return events


def pages(client, query: dict) -> tuple[list[list[int]], list[str]]:
    """Every page's event ids, in order, and the SQL of every request."""
    listed, statements = [], []
    for number in range(1, len(MOMENTS) // PER_PAGE + 2):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(CHANGELIST, {**query, "p": number})
        assert response.status_code == 200
        listed.append([event.pk for event in response.context_data["cl"].result_list])
        statements += [captured["sql"] for captured in queries]
    return listed, statements


@pytest.mark.parametrize("ordering", [{}, {"ordering": "date"}, {"ordering": "-service"}])
def test_paired_pages_hold_what_listed_pages_hold(reader_client, named, monkeypatch, ordering):
    query = {"q": "Paired Person", **ordering}
    monkeypatch.setattr(filters, "PAIRED_FROM", 10**9)
    expected, plain = pages(reader_client, query)
    monkeypatch.setattr(filters, "PAIRED_FROM", 1)
    paired, statements = pages(reader_client, query)

    assert not any("unnest" in sql for sql in plain)
    assert any("unnest" in sql for sql in statements), "the events were not joined as pairs"
    assert paired == expected
    newest_first = sorted(named, key=lambda e: (e.activity_datetime, e.pk), reverse=True)
    in_order = {"": newest_first, "date": newest_first[::-1]}.get(ordering.get("ordering", ""))
    if in_order is not None:
        assert [pk for page in paired for pk in page] == [e.pk for e in in_order]
    assert sorted(pk for page in paired for pk in page) == sorted(e.pk for e in named)


def test_a_paired_page_loads_only_its_own_events(reader_client, named, monkeypatch):
    """The named events are read once, keys only, for the count and the page; the page's
    events are then loaded by their listed keys."""
    monkeypatch.setattr(filters, "PAIRED_FROM", PAIRED_ALL_NOT_A_PAGE)
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 5)
    with CaptureQueriesContext(connection) as queries:
        response = reader_client.get(CHANGELIST, {"q": "Paired Person"})
    changelist = response.context_data["cl"]
    assert len(changelist.result_list) == PER_PAGE
    assert changelist.result_count == len(MOMENTS)
    assert not changelist.paginator.is_estimate  # counted exactly, past EXACT_COUNT_LIMIT
    paired = [q["sql"] for q in queries if "unnest" in q["sql"]]
    assert len(paired) == 1
    assert "logs_service" not in paired[0] and "COUNT" not in paired[0]


@pytest.mark.parametrize("ordering", [{}, {"ordering": "date"}])
def test_paired_api_pages_hold_what_listed_pages_hold(api, named, monkeypatch, ordering):
    """The API's cursor pages, forwards and back, read a paired list by its keys too."""
    query = {"search": "Paired Person", "page_size": PER_PAGE, **ordering}
    monkeypatch.setattr(filters, "PAIRED_FROM", 10**9)
    expected = walk_both_ways(api, query)
    monkeypatch.setattr(filters, "PAIRED_FROM", PAIRED_ALL_NOT_A_PAGE)
    with CaptureQueriesContext(connection) as queries:
        paired = walk_both_ways(api, query)
    assert any("unnest" in q["sql"] for q in queries), "the events were not joined as pairs"
    # Read by their keys: no query that names every event joins them to their names.
    assert not [q for q in queries if "unnest" in q["sql"] and "logs_service" in q["sql"]]
    assert paired == expected
    assert sorted(pk for page in paired[0] for pk in page) == sorted(e.pk for e in named)


def walk_both_ways(api, query: dict) -> tuple[list, list]:
    """The ids of every page following "next" from the first, then "previous" back."""
    forwards, backwards = [], []
    body = api.get(EVENTS_URL, query).json()
    forwards.append([event["id"] for event in body["results"]])
    while body["next"]:
        body = api.get(body["next"]).json()
        forwards.append([event["id"] for event in body["results"]])
    while body["previous"]:
        body = api.get(body["previous"]).json()
        backwards.append([event["id"] for event in body["results"]])
    return forwards, backwards
