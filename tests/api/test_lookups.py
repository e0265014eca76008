"""Services, categories, activities and initiators: the values the filters take."""

import pytest

from tests.support import EVENTS_URL, activities

pytestmark = pytest.mark.django_db


def results(api, url) -> list[dict]:
    response = api.get(url)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_services_by_name(api, six_events):
    assert [row["name"] for row in results(api, "/api/v1/services/")] == [
        "Core Directory",
        "Self-service Password Management",
    ]


def test_categories_by_name(api, six_events):
    assert [row["name"] for row in results(api, "/api/v1/categories/")] == [
        "ApplicationManagement",
        "GroupManagement",
        "Policy",
        "UserManagement",
    ]


def test_activities_by_name(api, six_events):
    names = [row["name"] for row in results(api, "/api/v1/activities/")]
    assert names == sorted(names) and len(names) == 6 and "Update user" in names


def test_a_listed_name_is_a_working_filter_value(api, six_events):
    [service, *_] = results(api, "/api/v1/services/")
    assert activities(api.get(EVENTS_URL, {"service": service["name"]}))


def test_initiators(api, six_events):
    by_name = {row["name"]: row for row in results(api, "/api/v1/initiators/")}
    assert set(by_name) == {
        "zoe.angstrom@contoso.example",
        "taro.yamada@contoso.example",
        "Microsoft Substrate Management",
    }
    app = by_name["Microsoft Substrate Management"]
    assert (app["type"], app["app_id"]) == ("app", "98db8bd6-0cc0-4e67-9de5-f187f1cd1b41")
    assert "identity_key" not in app
    detail = api.get(f"/api/v1/initiators/{app['id']}/").json()
    assert detail == app
