"""Each target carries copies of its event's date, activity, result and service (see
Target.event_datetime), whichever way it was stored."""

import pytest
from django.db.models import F, Q

from logs.ingest.importer import import_file
from logs.models import Target
from tests.factories import AuditEventFactory, TargetFactory
from tests.support import FIXTURES_DIR

pytestmark = pytest.mark.django_db


def differing_copies():
    return Target.objects.filter(
        ~Q(event_datetime=F("event__activity_datetime"))
        | ~Q(event_activity=F("event__activity"))
        | ~Q(event_result=F("event__result"))
        | ~Q(event_service=F("event__service"))
        | Q(event_datetime__isnull=True)
    )


@pytest.mark.parametrize(
    "path",
    [
        "graph/graph-docs-list-example1.json",
        "portal-csv/AuditLogs_2026-11-02.csv",
        "azure-monitor/eventhub-message.json",
    ],
)
def test_imported_targets_copy_their_event(path):
    import_file(FIXTURES_DIR / path)
    assert Target.objects.exists()
    assert not differing_copies().exists()


def test_a_target_saved_through_the_orm_copies_its_event():
    event = AuditEventFactory(result="failure")
    target = TargetFactory(event=event)
    target.refresh_from_db()
    assert target.event_datetime == event.activity_datetime
    assert target.event_activity_id == event.activity_id
    assert target.event_result == "failure"
    assert target.event_service_id == event.service_id
