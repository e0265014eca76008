"""``InIds``: a list of ids as one condition, the same rows on both databases."""

import pytest

from logs.filters import InIds
from logs.models import AuditEvent
from tests.factories import AuditEventFactory

pytestmark = pytest.mark.django_db


def test_exactly_the_listed_events_are_selected():
    events = [AuditEventFactory() for _ in range(5)]
    wanted = sorted([events[0].pk, events[3].pk, events[4].pk])
    selected = AuditEvent.objects.filter(InIds("pk", wanted)).values_list("pk", flat=True)
    assert sorted(selected) == wanted


def test_an_empty_list_selects_nothing():
    AuditEventFactory()
    assert not AuditEvent.objects.filter(InIds("pk", [])).exists()
    assert AuditEvent.objects.exclude(InIds("pk", [])).count() == 1
