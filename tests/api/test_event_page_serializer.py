"""The serializer that reads a page of events as instances in one pass (EventPageSerializer):
the list's reference, which tests/api/test_event_rows_bytes.py compares the pages built from
rows with, byte for byte (the list itself no longer goes through it). Here: the sample pages
hold every kind of initiator, the detail shape stays DRF's, and the many=True serializer is the
one-pass one.
"""

import pytest

from logs.api.serializers import AuditEventSerializer, EventPageSerializer
from logs.ingest.importer import import_file
from tests.factories import AuditEventFactory, TargetFactory
from tests.support import EVENTS_URL, FIXTURES_DIR

pytestmark = pytest.mark.django_db


@pytest.fixture
def every_fixture():
    for path in sorted(FIXTURES_DIR.rglob("*")):
        if path.suffix in (".json", ".csv") and path.is_file():
            import_file(path)
    event = AuditEventFactory(initiator=None, result_reason="", correlation_id="")
    TargetFactory(event=event, display_name='R&D <"team">', object_id="", type="")


def test_the_pages_hold_every_kind_of_initiator(api, every_fixture):
    events = api.get(EVENTS_URL + "?page_size=500").json()["results"]
    kinds = {event["initiated_by"]["type"] if event["initiated_by"] else None for event in events}
    assert {"user", "app", None} <= kinds
    assert any(event["informational"] for event in events)


def test_the_detail_shape_is_left_to_drf(api, every_fixture):
    event_id = api.get(EVENTS_URL).json()["results"][0]["id"]
    detail = api.get(f"{EVENTS_URL}{event_id}/").json()
    assert "original" in detail and "modified_properties" in detail["targets"][0]


def test_the_list_serializer_is_the_one_pass_one():
    assert isinstance(AuditEventSerializer(many=True), EventPageSerializer)
