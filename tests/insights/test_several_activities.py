"""The ``activity`` filter takes several names, so an answer spanning several activities links
to exactly its events; one name, and the other filters' one-value rule, are unchanged."""

import pytest

from logs.filters import AuditEventFilterSet
from logs.models import AuditEvent
from tests.support import EVENTS_URL, activities

pytestmark = pytest.mark.django_db

TWO = ["Update group", "Update user"]


def test_api_selects_any_of_several_activities(api, six_events):
    response = api.get(EVENTS_URL, {"activity": TWO})
    assert sorted(activities(response)) == TWO


def test_api_one_activity_and_unknown_names(api, six_events):
    assert activities(api.get(EVENTS_URL, {"activity": "Update user"})) == ["Update user"]
    response = api.get(EVENTS_URL, {"activity": ["Update user", "No such activity"]})
    assert response.status_code == 400
    assert list(response.json()) == ["activity"]


def test_other_parameters_are_still_given_once(api, six_events):
    response = api.get(EVENTS_URL, {"result": ["success", "failure"]})
    assert response.status_code == 400
    assert response.json() == {"result": ["Give this parameter once."]}


def test_admin_changelist_selects_any_of_several(client, reader, six_events):
    client.force_login(reader)
    reader.is_staff = True
    reader.save()
    response = client.get("/admin/logs/auditevent/", {"activity": TWO})
    assert sorted(activities(response)) == TWO
    assert "Any of 2 activities" in response.content.decode()
    single = client.get("/admin/logs/auditevent/", {"activity": "Update group"})
    assert activities(single) == ["Update group"]


def test_filter_set_takes_a_plain_string_as_the_export_command_gives(six_events):
    filterset = AuditEventFilterSet(
        data={"activity": "Update group"}, queryset=AuditEvent.objects.all()
    )
    assert filterset.is_valid()
    assert [event.activity.name for event in filterset.qs] == ["Update group"]
