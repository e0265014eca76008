"""Bad query parameters are a 400 naming the parameter: never a 500, never silently ignored."""

import pytest

from logs.filters import AuditEventFilterSet
from logs.models import AuditEvent
from tests.support import EVENTS_URL, SIX_ACTIVITIES_NEWEST_FIRST, activities

pytestmark = pytest.mark.django_db


def errors(api, params, url=EVENTS_URL) -> dict:
    response = api.get(url, params)
    assert response.status_code == 400, (response.status_code, response.content)
    return response.json()


def test_unknown_parameter_names_the_typo_and_the_known_ones(api, six_events):
    body = errors(api, {"categroy": "GroupManagement"})
    [message] = body["categroy"]
    assert message.startswith("Unknown parameter. Known: ")
    for known in ("category", "cursor", "page_size", "since", "search", "format"):
        assert known in message


def test_every_unknown_parameter_is_reported(api, six_events):
    assert set(errors(api, {"limit": "5", "offset": "10", "service": "Core Directory"})) == {
        "limit",
        "offset",
    }


def test_lookup_lists_refuse_filters_they_do_not_have(api, six_events):
    assert list(errors(api, {"name": "Core Directory"}, "/api/v1/services/")) == ["name"]


def test_a_parameter_given_twice_is_refused(api, six_events):
    response = api.get(
        f"{EVENTS_URL}?service=Core+Directory&service=Self-service+Password+Management"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["service"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-45"}, "until"),
        ({"since": "2026-11-02T25:00:00Z"}, "since"),
        ({"service": "No Such Service"}, "service"),
        ({"category": "usermanagement"}, "category"),
        ({"activity": "Update user'; DROP TABLE logs_auditevent; --"}, "activity"),
        ({"result": "failed"}, "result"),
        ({"period": "1y"}, "period"),
        ({"ordering": "-activity_datetime"}, "ordering"),
        ({"ordering": "name"}, "ordering"),
        ({"informational": "maybe"}, "informational"),
        ({"informational": "1"}, "informational"),
        ({"operation_type": "x" * 65}, "operation_type"),
        ({"correlation_id": "x" * 65}, "correlation_id"),
        ({"search": "x" * 1025}, "search"),
        ({"initiator": "x" * 5000}, "initiator"),
        ({"target": "x" * 5000}, "target"),
        ({"service": "x" * 5000}, "service"),
        ({"service": "Core\x00Directory"}, "service"),
        ({"search": "\x00"}, "search"),
        ({"format": "xlsx"}, "format"),
        ({"format": "xml"}, "format"),
    ],
    ids=repr,
)
def test_invalid_value_is_400_for_that_parameter(api, six_events, params, field):
    body = errors(api, params)
    assert list(body) == [field]
    assert body[field] and all(isinstance(message, str) for message in body[field])


def test_since_later_than_until_is_400(api, six_events):
    body = errors(api, {"since": "2026-11-03T00:00:00Z", "until": "2026-11-02T00:00:00Z"})
    assert body == {"since": ["Must not be later than until."]}


def test_since_equal_to_until_is_allowed(api, six_events):
    moment = "2026-11-02T11:05:00Z"
    assert activities(api.get(EVENTS_URL, {"since": moment, "until": moment})) == [
        "Reset password (self-service)"
    ]


@pytest.mark.parametrize(
    "value",
    ["' OR 1=1 --", "%", "_", "\\", "Robert'); DROP TABLE logs_auditevent;--", "🙂" * 10],
)
def test_sql_looking_text_is_just_text(api, six_events, value):
    for name in ("search", "initiator", "target", "target_type", "operation_type"):
        assert activities(api.get(EVENTS_URL, {name: value})) == [], name
    assert activities(api.get(EVENTS_URL)) == SIX_ACTIVITIES_NEWEST_FIRST


def test_json_pages_and_browsable_formats_are_accepted(api, six_events):
    """A page of JSON is the default; format=json asks for the export (see test_export.py)."""
    assert activities(api.get(EVENTS_URL)) == SIX_ACTIVITIES_NEWEST_FIRST
    accepting_json = api.get(EVENTS_URL, HTTP_ACCEPT="application/json")
    assert activities(accepting_json) == SIX_ACTIVITIES_NEWEST_FIRST
    page = api.get(EVENTS_URL, {"format": "api"})
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    assert "Update policy" in page.content.decode()


@pytest.mark.django_db
def test_since_after_until_is_refused_by_the_shared_filter_set():
    filterset = AuditEventFilterSet(
        data={"since": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"},
        queryset=AuditEvent.objects.all(),
    )
    assert not filterset.is_valid()
    assert filterset.errors["since"] == ["Must not be later than until."]
