"""``/api/v1/insights/``: the compliance answers as JSON, checked parameters, same permission;
``/api/v1/reports/``, its former path, answers the same and is marked deprecated."""

import pytest
from rest_framework.test import APIClient

INSIGHTS_URL = "/api/v1/insights/"
FORMER_URL = "/api/v1/reports/"
DAY = {"since": "2026-11-02T00:00:00Z", "until": "2026-11-03T00:00:00Z"}

pytestmark = pytest.mark.django_db


def test_answers_for_the_sample_day(api, six_events):
    response = api.get(INSIGHTS_URL, DAY)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["period"] == {
        "since": "2026-11-02T00:00:00Z",
        "until": "2026-11-03T00:00:00Z",
        "service": None,
        "exclude_informational": False,
    }
    assert body["totals"] == {"events": 6, "failures": 1}
    assert body["users"]["changes"]["count"] == 1
    assert body["users"]["password_changes"]["extra"]["failed"]["count"] == 1
    [rename] = body["applications"]["renames"]["items"]
    assert (rename["old_name"], rename["new_name"]) == ("Payroll Sync", "Payroll Connector")
    assert rename["api_url"] == f"/api/v1/events/{rename['event_id']}/"
    owners = body["groups"]["owner_changes"]
    linked = api.get(owners["api_url"]).json()["results"]
    assert [event["activity"] for event in linked] == ["Add owner to group"]


def test_informational_write_back_can_be_excluded(api, six_events):
    body = api.get(INSIGHTS_URL, {**DAY, "exclude_informational": "true"}).json()
    assert body["totals"]["events"] == 5
    assert body["period"]["exclude_informational"] is True


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"service": "No such service"}, "service"),
        ({"exclude_informational": "maybe"}, "exclude_informational"),
        ({"since": "2026-11-03T00:00:00Z", "until": "2026-11-02T00:00:00Z"}, "since"),
        ({"sinse": "2026-11-02"}, "sinse"),
        # The default 30 days before it would start before year 1.
        ({"until": "0001-01-01T00:00:00Z"}, "until"),
        ({"until": "0001-01-20T00:00:00Z"}, "until"),
    ],
)
def test_bad_parameters_are_refused(api, six_events, params, field):
    response = api.get(INSIGHTS_URL, params)
    assert response.status_code == 400
    assert list(response.json()) == [field]


@pytest.mark.parametrize("url", [INSIGHTS_URL, FORMER_URL])
def test_needs_the_view_permission(django_user_model, six_events, url):
    client = APIClient()
    assert client.get(url).status_code == 401
    client.force_login(django_user_model.objects.create_user("nobody", password="unused-pw"))
    assert client.get(url).status_code == 403


def test_documented_in_the_schema(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"][INSIGHTS_URL]["get"]
    assert not operation.get("deprecated")
    assert {p["name"] for p in operation["parameters"]} >= {
        "since",
        "until",
        "service",
        "exclude_informational",
    }
    reference = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    report = schema["components"]["schemas"][reference.rsplit("/", 1)[-1]]
    assert set(report["properties"]) == {
        "period",
        "totals",
        "users",
        "groups",
        "applications",
        "charts",
    }


def test_the_former_path_answers_the_same(api, six_events):
    response = api.get(FORMER_URL, DAY)
    assert response.status_code == 200, response.content
    assert response.json() == api.get(INSIGHTS_URL, DAY).json()
    assert api.get(FORMER_URL, {"sinse": "2026-11-02"}).status_code == 400


def test_the_former_path_is_deprecated_in_the_schema(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    current, former = schema["paths"][INSIGHTS_URL]["get"], schema["paths"][FORMER_URL]["get"]
    assert former["deprecated"] is True
    assert former["responses"]["200"] == current["responses"]["200"]
    assert {p["name"] for p in former["parameters"]} == {p["name"] for p in current["parameters"]}
