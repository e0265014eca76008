"""Keyset pages on (date, id): every row once, even while events arrive between requests."""

import base64
import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest

from logs.models import AuditEvent
from tests.factories import AuditEventFactory
from tests.support import EVENTS_URL

pytestmark = pytest.mark.django_db

BASE = datetime(2024, 11, 1, tzinfo=UTC)


def walk(api, url, params=None, between_pages=None, follow="next"):
    """Every page's ids, following the links; ``between_pages`` runs after each request."""
    pages = []
    response = api.get(url, params)
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        pages.append([event["id"] for event in body["results"]])
        if between_pages:
            between_pages(len(pages))
        if not body[follow]:
            return pages
        response = api.get(body[follow])


def flat(pages) -> list:
    return list(itertools.chain.from_iterable(pages))


def newest_first_ids():
    return list(
        AuditEvent.objects.order_by("-activity_datetime", "-id").values_list("id", flat=True)
    )


def test_default_page_is_100_with_a_next_link(api, db):
    AuditEventFactory.create_batch(101)
    body = api.get(EVENTS_URL).json()
    assert len(body["results"]) == 100
    assert body["next"] and body["previous"] is None
    assert "count" not in body


def test_page_size_up_to_the_maximum(api, db):
    AuditEventFactory.create_batch(1001)
    assert len(api.get(EVENTS_URL, {"page_size": 1000}).json()["results"]) == 1000
    assert len(api.get(EVENTS_URL, {"page_size": 7}).json()["results"]) == 7


@pytest.mark.parametrize("size", ["1001", "0", "-5", "ten", "2.5", ""])
def test_page_size_out_of_range_is_400(api, db, size):
    response = api.get(EVENTS_URL, {"page_size": size})
    assert response.status_code == 400
    assert list(response.json()) == ["page_size"]
    assert "1 to 1000" in response.json()["page_size"][0]


def test_walks_every_row_once_in_order(api, db):
    AuditEventFactory.create_batch(25)
    pages = walk(api, EVENTS_URL, {"page_size": 10})
    assert [len(page) for page in pages] == [10, 10, 5]
    assert flat(pages) == newest_first_ids()


def test_walks_ties_on_the_date_by_id(api, db):
    """Many events in one second: the id breaks the tie, so none is lost or repeated, even when
    more events of that same second arrive between pages (an offset into the tie would shift)."""
    for _ in range(12):
        AuditEventFactory(activity_datetime=BASE)
    there_from_the_start = newest_first_ids()
    pages = walk(
        api,
        EVENTS_URL,
        {"page_size": 5},
        between_pages=lambda _: AuditEventFactory(activity_datetime=BASE),
    )
    assert flat(pages) == there_from_the_start


def test_no_duplicates_or_gaps_while_events_arrive(api, db):
    for minute in range(30):
        AuditEventFactory(activity_datetime=BASE + timedelta(minutes=minute))
    there_from_the_start = newest_first_ids()
    served = []

    def import_more(page_number):
        # A newer event, one at the exact date of the last row served (same date, higher id: it
        # sorts before that row), and an older backfill still ahead of the cursor.
        last_served = AuditEvent.objects.get(pk=served[-1][-1])
        AuditEventFactory(activity_datetime=BASE + timedelta(days=1, minutes=page_number))
        AuditEventFactory(activity_datetime=last_served.activity_datetime)
        AuditEventFactory(activity_datetime=BASE - timedelta(days=1, minutes=page_number))

    response = api.get(EVENTS_URL, {"page_size": 7})
    while True:
        body = response.json()
        served.append([event["id"] for event in body["results"]])
        if not body["next"]:
            break
        import_more(len(served))
        response = api.get(body["next"])

    ids = flat(served)
    assert len(ids) == len(set(ids)), "an event was served twice"
    assert set(there_from_the_start) <= set(ids), "an event there from the start was skipped"
    assert ids == [i for i in newest_first_ids() if i in set(ids)], "out of order"
    assert len(served) >= 5


def test_oldest_first_cursor_follows_the_ordering(api, db):
    AuditEventFactory.create_batch(12)
    pages = walk(api, EVENTS_URL, {"page_size": 5, "ordering": "date"})
    assert flat(pages) == list(reversed(newest_first_ids()))


def test_oldest_first_picks_up_events_that_arrive(api, db):
    stored = AuditEventFactory.create_batch(6)
    first = api.get(EVENTS_URL, {"page_size": 5, "ordering": "date"}).json()
    # Newer than every stored event, whatever dates the factory's sequence has reached.
    latest = max(event.activity_datetime for event in stored)
    newest = AuditEventFactory(activity_datetime=max(latest, BASE) + timedelta(days=3))
    second = api.get(first["next"]).json()
    assert [event["id"] for event in second["results"]][-1] == newest.pk


def test_previous_links_walk_back_to_the_start(api, db):
    AuditEventFactory.create_batch(23)
    forward = walk(api, EVENTS_URL, {"page_size": 10})
    last_page = api.get(EVENTS_URL, {"page_size": 10}).json()
    while last_page["next"]:
        last_page = api.get(last_page["next"]).json()
    backward = walk(api, last_page["previous"], follow="previous")
    assert backward == list(reversed(forward[:-1]))
    assert backward[-1] == newest_first_ids()[:10]


def test_filters_apply_on_every_page(api, db):
    for n in range(20):
        AuditEventFactory(result="failure" if n % 2 else "success")
    pages = walk(api, EVENTS_URL, {"page_size": 3, "result": "failure"})
    failures = list(
        AuditEvent.objects.filter(result="failure")
        .order_by("-activity_datetime", "-id")
        .values_list("id", flat=True)
    )
    assert flat(pages) == failures


def encoded(payload) -> str:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        encoded("not json"),
        encoded({"p": [1]}),  # one key value where (date, id) needs two
        encoded({"p": ["not a date", 1], "r": 0}),
        encoded({"p": ["2024-11-01T00:00:00Z", None]}),
        encoded({"p": ["2024-11-01T00:00:00Z", 10**20]}),  # beyond a 64-bit id
        encoded({"p": ["2024-11-01T00:00:00Z", 1], "r": 7}),
        encoded({"position": 1}),
        "w6k=",
        encoded("[" * 5000 + "]" * 5000),  # deeper than the parser recurses
        encoded('{"p": [' + "9" * 5000 + ", 1]}"),  # past Python's digit limit for an int
    ],
)
def test_invalid_cursor_is_400(api, db, cursor):
    AuditEventFactory()
    response = api.get(EVENTS_URL, {"cursor": cursor})
    assert response.status_code == 400, response.content
    assert list(response.json()) == ["cursor"]


def test_lookup_lists_are_paged_too(api, db):
    for n in range(5):
        AuditEventFactory(activity__name=f"Activity {n}")
    pages = walk(api, "/api/v1/activities/", {"page_size": 2})
    assert [len(page) for page in pages] == [2, 2, 1]
    assert len(set(flat(pages))) == 5
