"""One event by its id, as the detail page and the API's detail read it (logs.event_by_id).

Where the events are in month partitions, the lookup names the month from a target's copy of
the event's date. A copy that is missing or wrong must cost time only: the event is still
found. And whatever the URL holds, the answer is the event or a 404, never a server error.
"""

from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import example, given
from hypothesis import strategies as st

from logs.event_by_id import LARGEST_ID, event_by_id, event_id_in
from logs.models import AuditEvent, Target
from logs.partitions import partitioned
from tests.factories import AuditEventFactory, TargetFactory
from tests.support import DATABASE_EXAMPLES, EVENTS_URL

pytestmark = pytest.mark.django_db

DETAIL = "/admin/logs/auditevent/{}/change/"
MARCH = datetime(2024, 3, 15, 12, tzinfo=UTC)


def event_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if 'FROM "logs_auditevent"' in q["sql"]]


def test_an_event_is_found_through_its_targets_copy_of_its_date():
    event = AuditEventFactory(activity_datetime=MARCH)
    TargetFactory(event=event)
    with CaptureQueriesContext(connection) as queries:
        assert event_by_id(AuditEvent.objects.all(), event.pk) == event
    (read,) = event_queries(queries)
    if partitioned(connection):
        assert '"activity_datetime" =' in read  # its month named: one partition planned
    else:
        assert '"activity_datetime" =' not in read  # one table: no target read first
        assert not [q for q in queries if 'FROM "logs_target"' in q["sql"]]


def test_an_event_without_targets_is_found_by_its_id_alone():
    event = AuditEventFactory(activity_datetime=MARCH)
    assert event_by_id(AuditEvent.objects.all(), event.pk) == event


def test_a_copy_naming_another_month_does_not_hide_the_event():
    event = AuditEventFactory(activity_datetime=MARCH)
    # Written around Target.save, which would copy the event's own date.
    Target.objects.bulk_create(
        [
            Target(
                event=event,
                position=0,
                type="User",
                event_datetime=datetime(2023, 1, 1, tzinfo=UTC),
            )
        ]
    )
    assert event_by_id(AuditEvent.objects.all(), event.pk) == event


def test_a_missing_event_is_none():
    event = AuditEventFactory(activity_datetime=MARCH)
    TargetFactory(event=event)
    assert event_by_id(AuditEvent.objects.exclude(pk=event.pk), event.pk) is None
    assert event_by_id(AuditEvent.objects.all(), event.pk + 1) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12),
        ("0012", 12),
        ("²", None),  # isdigit() passes it; int() refuses it
        ("٣", None),  # int() reads it as 3; no URL of ours holds it
        ("-1", None),
        (" 1", None),
        ("1.0", None),
        ("", None),
        (str(LARGEST_ID), LARGEST_ID),
        (str(LARGEST_ID + 1), None),
    ],
)
def test_only_ascii_digits_the_column_can_hold_name_an_event(text, expected):
    assert event_id_in(text) == expected


@DATABASE_EXAMPLES
@given(
    text=st.one_of(
        st.text(min_size=1, max_size=30).filter(lambda t: "/" not in t and t not in (".", "..")),
        st.integers(min_value=0, max_value=2**70).map(str),
    )
)
@example(text="?")
@example(text="1#")
def test_any_id_in_a_url_is_the_event_or_a_404(admin_client, api, text):
    event = AuditEventFactory(activity_datetime=MARCH)
    TargetFactory(event=event)
    pk = event_id_in(text)
    # The examples share the database: an earlier example's event may be the one named.
    exists = pk is not None and AuditEvent.objects.filter(pk=pk).exists()
    # Written into the path as a browser sends it: "?" or "#" as such would end the path.
    segment = quote(text, safe="")
    for client, url in [(admin_client, DETAIL.format(segment)), (api, f"{EVENTS_URL}{segment}/")]:
        status = client.get(url).status_code
        if exists:
            assert status == 200, url
        else:
            # The admin answers a path it cannot route with a redirect to the list.
            assert status in (301, 302, 404), (url, status)
    assert admin_client.get(DETAIL.format(event.pk)).status_code == 200
    assert api.get(f"{EVENTS_URL}{event.pk}/").status_code == 200
