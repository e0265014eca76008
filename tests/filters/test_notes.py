"""The ``notes`` filter means what its choices say: ``true`` lists exactly the events stored
with normalisation notes, ``false`` exactly those without, and no choice lists both.

The view and its download share the FilterSet, so they would agree with each other even if
the two choices were swapped: this pins what each choice selects."""

import json

import pytest

from logs.filters import AuditEventFilterSet
from logs.models import AuditEvent
from tests.factories import AuditEventFactory

pytestmark = pytest.mark.django_db

NOTE = [{"field": "result", "note": "not one of Graph's results", "raw": "maybe"}]


def selected(**params) -> set[str]:
    filterset = AuditEventFilterSet(params, queryset=AuditEvent.objects.all())
    assert filterset.is_valid(), filterset.errors
    return set(filterset.qs.values_list("entra_id", flat=True))


def test_each_choice_selects_exactly_its_events():
    noted = AuditEventFactory(normalisation_notes=json.dumps(NOTE)).entra_id
    plain = AuditEventFactory().entra_id

    assert selected(notes="true") == {noted}
    assert selected(notes="false") == {plain}
    assert selected() == {noted, plain}


def test_an_unknown_choice_is_refused():
    filterset = AuditEventFilterSet({"notes": "yes"}, queryset=AuditEvent.objects.all())
    assert not filterset.is_valid()
    assert "notes" in filterset.errors
