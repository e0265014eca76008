"""Rates per anonymous address, per user, and for ingest: over the rate is 429 with Retry-After."""

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from logs.roles import INGESTION_SERVICE
from tests.api.test_ingest import GRAPH_PAGE_BYTES, INGEST_URL
from tests.support import EVENTS_URL

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(monkeypatch):
    """Low rates for this test only (the suite's settings make them unreachable), and fresh
    counters. DRF's throttles read the rates once, at import, hence the patch."""
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {"anon": "2/minute", "user": "3/minute", "ingest": "1/minute"},
    )
    cache.clear()
    yield
    cache.clear()


def assert_throttled(response):
    assert response.status_code == 429, response.content
    assert 0 < int(response["Retry-After"]) <= 60
    assert "throttled" in response.json()["detail"].lower()


def test_anonymous_requests_are_limited_per_address_though_each_is_refused(rates):
    client = APIClient()
    for _ in range(2):
        assert client.get(EVENTS_URL).status_code == 401
    assert_throttled(client.get(EVENTS_URL))
    assert client.get(EVENTS_URL, REMOTE_ADDR="192.0.2.10").status_code == 401


def test_a_user_is_limited_whatever_the_endpoint(rates, api):
    for url in [EVENTS_URL, "/api/v1/services/", "/api/v1/insights/"]:
        assert api.get(url).status_code == 200
    assert_throttled(api.get(EVENTS_URL))


def test_a_request_counts_once(rates, api):
    for _ in range(3):
        assert api.get(EVENTS_URL).status_code == 200


def test_ingest_has_its_own_lower_rate(rates, django_user_model):
    user = django_user_model.objects.create_user("pusher")
    user.groups.add(Group.objects.get(name=INGESTION_SERVICE))
    client = APIClient()
    client.force_authenticate(user)
    post = lambda: client.generic(  # noqa: E731
        "POST", INGEST_URL, GRAPH_PAGE_BYTES, content_type="application/json"
    )
    assert post().status_code == 201
    assert_throttled(post())


def test_a_forged_forwarded_header_does_not_escape_the_anonymous_rate(rates):
    client = APIClient(REMOTE_ADDR="198.51.100.7")
    for forged in ("192.0.2.1", "192.0.2.2"):
        assert client.get(EVENTS_URL, HTTP_X_FORWARDED_FOR=forged).status_code == 401
    assert_throttled(client.get(EVENTS_URL, HTTP_X_FORWARDED_FOR="192.0.2.3"))


def test_behind_a_proxy_anonymous_clients_are_counted_apart(rates, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = APIClient(REMOTE_ADDR="10.0.0.2")
    for _ in range(2):
        assert proxy.get(EVENTS_URL, HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 401
    assert_throttled(proxy.get(EVENTS_URL, HTTP_X_FORWARDED_FOR="192.0.2.1, 198.51.100.7"))
    assert proxy.get(EVENTS_URL, HTTP_X_FORWARDED_FOR="203.0.113.20").status_code == 401
