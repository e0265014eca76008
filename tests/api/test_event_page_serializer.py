"""A page of events serialized in one pass (EventPageSerializer) is DRF's page, byte for byte.

Every fixture format is imported (users, applications, the system, no initiator, targets with
empty fields, informational write-backs), then the same pages are requested twice, once with
DRF's own ListSerializer rendering, and the response bodies compared.
"""

import re

import pytest
from rest_framework import serializers

from logs.api.serializers import AuditEventSerializer, EventPageSerializer
from logs.ingest.importer import import_file
from tests.factories import AuditEventFactory, TargetFactory
from tests.support import EVENTS_URL, FIXTURES_DIR

pytestmark = pytest.mark.django_db

PAGES = [
    "",
    "?page_size=3",
    "?ordering=initiator",
    "?ordering=-status",
    "?result=failure",
    "?informational=true",
    "?search=group",
    "?format=api",  # the browsable page shows the same JSON
]
# The browsable page's CSRF token is masked afresh on every render.
CSRF = re.compile(rb'"csrfToken": "[^"]+"|name="csrfmiddlewaretoken" value="[^"]+"')


@pytest.fixture
def every_fixture():
    for path in sorted(FIXTURES_DIR.rglob("*")):
        if path.suffix in (".json", ".csv") and path.is_file():
            import_file(path)
    event = AuditEventFactory(initiator=None, result_reason="", correlation_id="")
    TargetFactory(event=event, display_name='R&D <"team">', object_id="", type="")


def both_ways(client, url, monkeypatch):
    fast = client.get(url)
    with monkeypatch.context() as patched:
        patched.setattr(
            EventPageSerializer, "to_representation", serializers.ListSerializer.to_representation
        )
        drf = client.get(url)
    return fast, drf


@pytest.mark.parametrize("query", PAGES)
def test_every_page_is_drfs_page(api, every_fixture, monkeypatch, query):
    fast, drf = both_ways(api, EVENTS_URL + query, monkeypatch)
    assert fast.status_code == drf.status_code == 200
    assert CSRF.sub(b"", fast.content) == CSRF.sub(b"", drf.content)


def test_the_pages_hold_every_kind_of_initiator(api, every_fixture):
    events = api.get(EVENTS_URL + "?page_size=500").json()["results"]
    kinds = {event["initiated_by"]["type"] if event["initiated_by"] else None for event in events}
    assert {"user", "app", None} <= kinds
    assert any(event["informational"] for event in events)


def test_the_next_page_is_drfs_too(api, every_fixture, monkeypatch):
    first = api.get(EVENTS_URL + "?page_size=4").json()
    fast, drf = both_ways(api, first["next"], monkeypatch)
    assert fast.status_code == 200 and fast.content == drf.content


def test_the_detail_shape_is_left_to_drf(api, every_fixture):
    event_id = api.get(EVENTS_URL).json()["results"][0]["id"]
    detail = api.get(f"{EVENTS_URL}{event_id}/").json()
    assert "original" in detail and "modified_properties" in detail["targets"][0]


def test_the_list_serializer_is_the_one_pass_one():
    assert isinstance(AuditEventSerializer(many=True), EventPageSerializer)
