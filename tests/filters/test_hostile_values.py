"""Hostile filter values, in the API and the changelist: refused or matching nothing, never a
server error, never a filter widened into "everything"."""

import pytest
from rest_framework.test import APIClient

from logs.filters import AuditEventFilterSet
from logs.ingest.importer import import_file
from tests.support import EVENTS_URL, SIX_EVENTS_FILE

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/logs/auditevent/"
FILTERS = sorted(AuditEventFilterSet.base_filters)
# Values a text filter may legitimately be given (a display name can hold any of them): they
# must match nothing here, as no stored value is like them.
ODD_TEXT = ["' OR 1=1 --", "%", "\\", "') ; DROP TABLE logs_auditevent; --"]
# Values no filter can accept.
REFUSED = ["\x00", "x" * 100_000, "a\x00' OR '1'='1"]
BAD_DATES = ["2026-13-45", "yesterday", "9999999-01-01", "2026-01-01T25:00:00Z"]


@pytest.fixture
def events(db):
    assert import_file(SIX_EVENTS_FILE).new == 6


@pytest.fixture
def api(events, superuser_client_for_api):
    return superuser_client_for_api


@pytest.fixture
def superuser_client_for_api(admin_user):
    client = APIClient()
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("name", FILTERS)
@pytest.mark.parametrize("value", REFUSED, ids=["nul", "100kb", "nul-injection"])
def test_the_api_refuses_values_no_filter_can_read(api, name, value):
    response = api.get(EVENTS_URL, {name: value})
    assert response.status_code == 400, (name, response.content[:200])
    assert name in response.json()


@pytest.mark.parametrize("name", ["since", "until"])
@pytest.mark.parametrize("value", BAD_DATES)
def test_the_api_refuses_dates_it_cannot_read(api, name, value):
    response = api.get(EVENTS_URL, {name: value})
    assert response.status_code == 400
    assert name in response.json()


@pytest.mark.parametrize("name", FILTERS)
@pytest.mark.parametrize("value", ODD_TEXT)
def test_the_api_refuses_or_matches_nothing_with_odd_text(api, name, value):
    response = api.get(EVENTS_URL, {name: value})
    assert response.status_code in (200, 400), (name, response.content[:200])
    if response.status_code == 200:
        assert response.json()["results"] == [], f"{name}={value!r} widened the filter"


@pytest.fixture
def portal(events, admin_client):
    return admin_client


@pytest.mark.parametrize("name", [*FILTERS, "q"])
@pytest.mark.parametrize("value", [*REFUSED, *ODD_TEXT[:2], BAD_DATES[0]])
def test_the_changelist_never_fails_on_a_filter_value(portal, name, value):
    """A value a filter cannot read is said on the page, which shows no events (never a
    redirect to an unfiltered view); odd text is searched for, and matches nothing."""
    response = portal.get(CHANGELIST, {name: value})
    assert response.status_code == 200, (name, value[:40], response.status_code)
    changelist = response.context_data["cl"]
    assert len(changelist.result_list) == 0, f"{name}={value[:40]!r} widened"
    if not changelist.filters_valid:
        assert 'id="filter-problems"' in response.content.decode()


@pytest.mark.parametrize("url", [EVENTS_URL, "/api/v1/insights/"])
@pytest.mark.parametrize(
    "value",
    ["1904-05-03T11:20:31.314583+16:06", "2026-11-02T12:00:00-23:59"],
)
def test_offsets_postgresql_cannot_take_are_compared_in_utc(api, url, value):
    assert api.get(url, {"until": value}).status_code == 200


@pytest.mark.parametrize("url", [EVENTS_URL, "/api/v1/insights/"])
def test_a_date_time_with_no_utc_equivalent_is_refused(api, url):
    response = api.get(url, {"since": "0001-01-01T00:00:00+05:00"})
    assert response.status_code == 400
    assert "since" in response.json()
