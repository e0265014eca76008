"""From a detail page back to the filtered list, and to the events before and after it there."""

import html
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.db.models import F
from django.db.models.functions import Lower
from django.test.utils import CaptureQueriesContext

from logs.admin.neighbours import neighbours
from logs.models import AuditEvent
from tests.factories import (
    AuditEventFactory,
    CategoryFactory,
    InitiatorFactory,
    TargetFactory,
)
from tests.support import CHANGELIST, listed

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def events(imported):
    """The fixtures' events and some more: several at the same moment (ties broken by id),
    some without an initiator, two categories."""
    users, groups = CategoryFactory(name="UserManagement"), CategoryFactory(name="GroupManagement")
    someone = InitiatorFactory(user_principal_name="someone@contoso.example")
    for number in range(12):
        event = AuditEventFactory(
            activity_datetime=MOMENT + timedelta(minutes=number // 3),
            category=users if number % 2 else groups,
            initiator=None if number % 4 == 0 else someone,
        )
        TargetFactory(event=event, display_name=f"Target {number % 5}")


def href(page: str, element_id: str) -> str | None:
    found = re.search(rf'id="{element_id}" href="([^"]*)"', page) or re.search(
        rf'href="([^"]*)" id="{element_id}"', page
    )
    return html.unescape(found.group(1)) if found else None


def detail_links(response) -> list[str]:
    """The detail links of a changelist page, as the list shows them."""
    page = response.content.decode()
    return [html.unescape(url) for url in re.findall(r'<a href="([^"]*/change/[^"]*)"', page)]


def walk(client, first_url: str, link_id: str) -> list[int]:
    """The event ids met from ``first_url`` following ``link_id`` (Next or Previous)."""
    ids, url = [], first_url
    while url:
        response = client.get(url)
        assert response.status_code == 200
        ids.append(response.context["event"].pk)
        url = href(response.content.decode(), link_id)
        assert len(ids) <= AuditEvent.objects.count()
    return ids


LISTS = [
    {},
    {"category": "GroupManagement"},
    {"category": "UserManagement", "ordering": "date"},
    {"q": "Update"},
    # A reader has no actions, so no checkbox column: column 0 is the date, 1 the service.
    {"o": "0"},  # the date, oldest first
    {"o": "1"},  # the service, A to Z, then newest first
    {"o": "-1"},
    {"target": "Target 3"},
    {"since": "2026-11-02T12:01:00Z", "until": "2026-11-02T12:03:00Z", "o": "1"},
    {"result": "failure"},
    {"o": "2"},  # the category, A to Z, then newest first
    {"ordering": "-initiator"},
    {"category": "GroupManagement", "ordering": "status"},
]


@pytest.mark.parametrize("query", LISTS, ids=[str(query) for query in LISTS])
def test_previous_and_next_walk_exactly_the_list(reader_client, events, query):
    listing = reader_client.get(CHANGELIST, query)
    expected = [event.pk for event in listed(listing)]
    assert expected
    links = detail_links(listing)
    assert len(links) == len(expected)

    forward = walk(reader_client, links[0], "next-event")
    assert forward == expected
    backward = walk(reader_client, links[-1], "previous-event")
    assert backward == expected[::-1]


def test_the_breadcrumb_and_back_return_to_the_filtered_list(reader_client, events):
    query = {"category": "UserManagement", "q": "Update", "ordering": "date"}
    listing = reader_client.get(CHANGELIST, query)
    page = reader_client.get(detail_links(listing)[0]).content.decode()
    for link in ("breadcrumb-list", "back-to-list"):
        url = href(page, link)
        assert urlsplit(url).path == CHANGELIST
        assert {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()} == query
    # ... and so does the next event's page.
    next_page = reader_client.get(href(page, "next-event")).content.decode()
    assert href(next_page, "back-to-list") == href(page, "back-to-list")


def test_opened_without_a_list_it_walks_the_whole_log(reader_client, events):
    newest = AuditEvent.objects.order_by("-activity_datetime", "-id")
    page = reader_client.get(f"{CHANGELIST}{newest[1].pk}/change/").content.decode()
    assert href(page, "previous-event") == f"{CHANGELIST}{newest[0].pk}/change/"
    assert href(page, "next-event") == f"{CHANGELIST}{newest[2].pk}/change/"
    assert href(page, "back-to-list") == CHANGELIST


def test_an_invalid_list_leaves_no_neighbours_but_the_page_opens(reader_client, events):
    event = AuditEvent.objects.first()
    response = reader_client.get(
        f"{CHANGELIST}{event.pk}/change/", {"_changelist_filters": "since=yesterday"}
    )
    assert response.status_code == 200
    assert href(response.content.decode(), "next-event") is None


def test_neighbours_are_one_keyset_query_each_never_an_offset_or_a_count(reader_client, events):
    event = AuditEvent.objects.order_by("-activity_datetime", "-id")[5]
    url = f"{CHANGELIST}{event.pk}/change/?_changelist_filters=category%3DUserManagement"
    reader_client.get(url)
    with CaptureQueriesContext(connection) as queries:
        reader_client.get(url)
    event_queries = [q["sql"] for q in queries if 'FROM "logs_auditevent"' in q["sql"]]
    assert not [sql for sql in event_queries if "OFFSET" in sql or "COUNT(" in sql]
    # the event, the one before, the one after: the sort key is the event's own
    assert len(event_queries) == 3, event_queries


ORDERS = [
    ["-activity_datetime", "-id"],
    ["activity_datetime", "id"],
    ["category__name", "-activity_datetime", "-id"],
    ["-initiator__user_principal_name", "activity_datetime", "id"],  # NULL initiators
    ["initiator__user_principal_name", "-id"],
    ["-result_reason", "-id"],
]


@pytest.mark.parametrize("order", ORDERS, ids=[",".join(order) for order in ORDERS])
def test_every_event_finds_its_neighbours_in_any_order(events, order):
    """Whatever the sort (NULLs included, where the databases place them differently)."""
    assert_each_event_finds_its_neighbours(AuditEvent.objects.order_by(*order))


def assert_each_event_finds_its_neighbours(events_in_order):
    """Each event's neighbours are the events before and after it in ``events_in_order``."""
    ids = list(events_in_order.values_list("pk", flat=True))
    for position, pk in enumerate(ids):
        preceding = ids[position - 1] if position else None
        following = ids[position + 1] if position + 1 < len(ids) else None
        # As the detail page has it: read by id, its relations not loaded.
        row = AuditEvent.objects.get(pk=pk)
        assert neighbours(events_in_order, row) == (preceding, following), position


def test_an_order_that_is_not_total_has_no_neighbours(events):
    event = AuditEvent.objects.first()
    assert neighbours(AuditEvent.objects.order_by("-activity_datetime"), event) == (None, None)
    assert neighbours(AuditEvent.objects.order_by("activity", "id"), event) == (None, None)


@pytest.mark.parametrize("newest_first", [True, False])
def test_neighbours_across_month_edges_are_found_beyond_the_events_month(db, newest_first):
    """The neighbour is looked for in the event's own month first (month partitions); at a
    month's edge, and across an empty month, it lies beyond."""
    moments = [
        datetime(2024, 1, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2024, 2, 1, tzinfo=UTC),
        datetime(2024, 2, 1, tzinfo=UTC),  # a tie, broken by id
        datetime(2024, 2, 29, 23, 59, tzinfo=UTC),
        datetime(2024, 4, 1, 0, 0, 1, tzinfo=UTC),  # March holds none
    ]
    for moment in moments:
        AuditEventFactory(activity_datetime=moment)
    order = ["-activity_datetime", "-id"] if newest_first else ["activity_datetime", "id"]
    assert_each_event_finds_its_neighbours(AuditEvent.objects.order_by(*order))


def test_an_order_by_expression_finds_the_neighbours_its_plain_fields_name(events):
    by_fields = AuditEvent.objects.order_by("-activity_datetime", "-id")
    by_expressions = AuditEvent.objects.order_by(F("activity_datetime").desc(), F("id").desc())
    ids = list(by_fields.values_list("pk", flat=True))
    row = AuditEvent.objects.get(pk=ids[3])
    assert neighbours(by_expressions, row) == (ids[2], ids[4])


@pytest.mark.parametrize(
    "order",
    [
        # NULLs placed by the order, which the keyset does not follow
        lambda: AuditEvent.objects.order_by(F("result_reason").desc(nulls_last=True), "-id"),
        # a name that is no field: an annotation
        lambda: AuditEvent.objects.annotate(number=F("id")).order_by("number", "id"),
        # a part of a value (its year), not the value
        lambda: AuditEvent.objects.order_by("activity_datetime__year", "id"),
        # a function of a value
        lambda: AuditEvent.objects.order_by(Lower("entra_id"), "id"),
        # through a relation to many: one event, several values
        lambda: AuditEvent.objects.order_by("targets__position", "id"),
    ],
    ids=["nulls last", "annotation", "transform", "function", "to many"],
)
def test_an_order_not_of_plain_values_has_no_neighbours(events, order):
    row = AuditEvent.objects.order_by("id")[3]
    assert neighbours(order(), row) == (None, None)
