"""A page of the event list built from rows (logs/api/event_rows.py, written with orjson) is byte
for byte the page the list served before it: ``ListModelMixin.list``, the events loaded as model
instances and serialized by ``AuditEventSerializer`` (in one pass, ``EventPageSerializer``, and
by DRF's own fields), the body written by DRF's JSON renderer.

Every sample file's events (each format: users, applications, the system, no initiator,
informational write-backs) and generated events with awkward text, statuses and initiators are
listed under every ordering (the date both ways, each column sort both ways), single and
combined filters, page sizes, each page followed by its next link to the end and back by its
previous links, the browsable page, and refusals.
"""

import json
import re
from datetime import UTC, datetime
from unittest import mock
from urllib.parse import urlencode

import pytest
from rest_framework import serializers
from rest_framework.mixins import ListModelMixin

from logs.api.renderers import PlainBody
from logs.api.serializers import EventPageSerializer
from logs.api.views import AuditEventViewSet
from logs.filters import ORDERINGS
from logs.ingest.importer import import_file
from logs.models import Annotation, AuditEvent, Initiator
from tests.factories import (
    ActivityFactory,
    AuditEventFactory,
    InitiatorFactory,
    ServiceFactory,
    TargetFactory,
)
from tests.support import EVENTS_URL, FIXTURES_DIR

pytestmark = pytest.mark.django_db

# Characters a JSON writer may escape or not: line and paragraph separators (DRF escapes them),
# control characters with and without a short escape (not NUL, which PostgreSQL's text
# refuses), DEL, a character outside the BMP, a
# byte-order mark, quotes, backslashes, a slash and markup.
AWKWARD = 'a\u2028b\u2029c\x01\x08\x0c\x1f\x7f\t\n\r"\\/ é 𝄞 \ufeff <b>&amp;</b>'

ORDERING_QUERIES = [{"ordering": key} for key in ORDERINGS] + [
    {"ordering": key, "page_size": "2"} for key in ("date", "initiator", "-status")
]
FILTER_QUERIES = [
    {},
    {"page_size": "1"},
    {"page_size": "3"},
    {"page_size": "1000"},
    {"result": "failure"},
    {"category": "UserManagement"},
    {"service": "Core Directory", "page_size": "4"},
    {"activity": "Add member to group"},
    {"operation_type": "Update"},
    {"initiator": "ZOË"},
    {"target": "ventes"},
    {"target_type": "User", "page_size": "5"},
    {"informational": "true"},
    {"informational": "false", "page_size": "6"},
    {"search": "group"},
    {"since": "2026-11-01T00:00:00Z", "until": "2026-11-03T00:00:00Z"},
    {"category": "UserManagement", "ordering": "-initiator", "page_size": "2"},
    {"result": "success", "ordering": "service", "page_size": "3"},
    {"since": "2026-01-01T00:00:00Z", "ordering": "-activity", "page_size": "4"},
    {"activity": "Add member to group", "ordering": "date"},
    # Filters that join the initiator or the targets, under a column sort (the page is then
    # loaded by id with the filter's joins kept) and the date.
    {"initiator": "zoe", "ordering": "initiator", "page_size": "2"},
    {"target": "ventes", "ordering": "-service", "page_size": "2"},
    {"target_type": "Group", "ordering": "date", "page_size": "2"},
    {"initiator": "nobody-at-all"},  # an empty page
]
# Requests the list refuses: the refusal is the same too.
REFUSED = [
    {"columns": "date,service"},
    {"page_size": "0"},
    {"cursor": "not-a-cursor"},
    {"cursor": "eyJwIjpbXX0="},
    {"ordering": "initiator", "cursor": "eyJwIjpbMSwyLDNdfQ=="},
    {"ordering": "sideways"},
    {"unknown": "1"},
]
# The browsable page's CSRF token is masked afresh on every render.
CSRF = re.compile(rb'"csrfToken": "[^"]+"|name="csrfmiddlewaretoken" value="[^"]+"')


@pytest.fixture
def archive(db):
    """Every sample file, and generated events: initiators of each kind (an application known
    by its service principal alone, a user without a display name), no initiator, every status
    and one outside them, awkward text in names, targets and the caller, informational ones."""
    for path in sorted(FIXTURES_DIR.rglob("*")):
        if path.suffix in (".json", ".csv") and path.is_file():
            import_file(path)
    moment = datetime(2026, 11, 2, 11, 5, 7, 123456, tzinfo=UTC)
    initiators = [
        InitiatorFactory(user_display_name=f"Zoë {AWKWARD}", user_principal_name="zoe@ex.org"),
        InitiatorFactory(user_display_name=""),
        InitiatorFactory(
            kind=Initiator.Kind.APP,
            user_object_id="",
            user_display_name="",
            user_principal_name="",
            app_id="00000003-0000-0000-c000-000000000000",
            service_principal_name=f"Sync {AWKWARD}",
        ),
        InitiatorFactory(
            kind=Initiator.Kind.SYSTEM,
            user_object_id="",
            user_display_name="",
            user_principal_name="",
        ),
        None,
    ]
    results = ["success", "failure", "timeout", "unknownFutureValue", "", "partial"]
    for number, result in enumerate(results * 2):
        event = AuditEventFactory(
            activity_datetime=moment if number % 3 else AuditEventFactory.activity_datetime,
            service=ServiceFactory(name=f"Core Directory {AWKWARD}" if number % 2 else "Zeta"),
            activity=ActivityFactory(name=f"Update group {AWKWARD}" if number % 4 else "Add"),
            result=result,
            result_reason=AWKWARD if number % 2 else "",
            correlation_id="" if number % 5 else "c0ffee",
            initiator=initiators[number % len(initiators)],
            initiator_ip_address="" if number % 2 else "2001:db8::1",
            initiator_user_agent=AWKWARD,
        )
        for position in range(number % 3):
            TargetFactory(
                event=event,
                position=position,
                type="Group" if position else "",
                object_id="",
                display_name=f"Ventes {AWKWARD}",
                user_principal_name="x@ex.org" if position else "",
            )
        if number % 4 == 1:
            Annotation.objects.create(
                event=event, kind=Annotation.Kind.INFORMATIONAL, text="n", source="test"
            )
    return AuditEvent.objects.count()


def previous_build(client, url: str, *, drf_fields: bool = False, **extra):
    """The same request answered as the list answered it before: ``ListModelMixin.list``
    (model instances, ``EventPageSerializer``; with ``drf_fields``, DRF's own fields)."""
    with mock.patch.object(AuditEventViewSet, "page", ListModelMixin.list):
        if not drf_fields:
            return client.get(url, **extra)
        with mock.patch.object(
            EventPageSerializer, "to_representation", serializers.ListSerializer.to_representation
        ):
            return client.get(url, **extra)


def same_page(client, url: str, **extra):
    """The page ``url`` answered from rows, checked against both previous builds."""
    response = client.get(url, **extra)
    assert response.status_code == 200, response.content
    for drf_fields in (False, True):
        before = previous_build(client, url, drf_fields=drf_fields, **extra)
        assert before.status_code == 200
        assert response.content == before.content, (url, drf_fields)
    return response


def walk(client, params: dict) -> int:
    """Follow every page of the query to its end and back to its start, each page compared
    with the previous builds; the events listed."""
    url = f"{EVENTS_URL}?{urlencode(params)}" if params else EVENTS_URL
    listed, last = 0, None
    while url:
        body = same_page(client, url).json()
        listed += len(body["results"])
        last, url = url, body["next"]
    url = last
    while url:
        url = same_page(client, url).json()["previous"]
    return listed


def listed_by_default(api) -> int:
    """The events the list shows without a filter (duplicates, for one, are left out)."""
    return len(api.get(EVENTS_URL, {"page_size": 1000}).json()["results"])


@pytest.mark.parametrize("params", ORDERING_QUERIES, ids=str)
def test_every_ordering_is_the_previous_build(api, archive, params):
    assert walk(api, params) == listed_by_default(api) > 60


@pytest.mark.parametrize("params", FILTER_QUERIES, ids=str)
def test_every_filter_is_the_previous_build(api, archive, params):
    listed = walk(api, params)
    if params.get("initiator") != "nobody-at-all":
        assert listed, "the comparison covers rows only where the filter selects some"


@pytest.mark.parametrize("params", REFUSED, ids=str)
def test_a_refusal_is_the_previous_one(api, archive, params):
    url = f"{EVENTS_URL}?{urlencode(params)}"
    response = api.get(url)
    assert response.status_code == 400
    assert response.content == previous_build(api, url).content


@pytest.mark.parametrize("query", ["", "?ordering=initiator&page_size=2", "?result=failure"])
def test_the_browsable_page_is_the_previous_one(api, archive, query):
    url = f"{EVENTS_URL}?format=api&{query.lstrip('?')}"
    response = api.get(url)
    before = previous_build(api, url)
    assert response.status_code == before.status_code == 200
    assert b"Audit Event" in response.content or b"audit" in response.content.lower()
    assert CSRF.sub(b"", response.content) == CSRF.sub(b"", before.content)


def test_an_accept_header_and_another_time_zone_are_the_previous_build(api, archive, settings):
    same_page(api, EVENTS_URL + "?page_size=50", HTTP_ACCEPT="application/json")
    settings.TIME_ZONE = "Pacific/Chatham"
    body = same_page(api, EVENTS_URL + "?page_size=50").json()
    assert body["results"][0]["activity_datetime"].endswith(("+13:45", "+12:45"))


def test_the_pages_hold_what_the_comparison_claims(api, archive):
    """Rows of each initiator kind, none, each status and one outside them, informational
    events, targets, and the awkward characters as DRF writes them, served from rows."""
    response = api.get(EVENTS_URL + "?page_size=1000")
    assert type(response.data) is PlainBody
    assert type(previous_build(api, EVENTS_URL).data) is not PlainBody
    events = response.json()["results"]
    assert len(events) == listed_by_default(api) > archive - 10
    kinds = {event["initiated_by"]["type"] if event["initiated_by"] else None for event in events}
    assert kinds == {"user", "app", "system", None}
    names = {event["initiated_by"]["display_name"] for event in events if event["initiated_by"]}
    assert {"System", "", f"Sync {AWKWARD}", f"Zoë {AWKWARD}"} <= names
    statuses = {event["result"] for event in events}
    assert {"success", "failure", "timeout", "unknownFutureValue", "", "partial"} <= statuses
    assert {True, False} == {event["informational"] for event in events}
    assert any(event["targets"] for event in events)
    content = response.content
    assert b"\\u2028" in content and b"\\u2029" in content and b"\\u0001" in content
    assert b"\\b" in content and b"\\f" in content and "𝄞".encode() in content
    assert json.loads(content)["results"][0]["links"]["self"].startswith("http://testserver/")
