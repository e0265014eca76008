"""``/api/v1/legal-holds/``: every hold with its coverage and release, read-only."""

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from logs.models import LegalHold
from logs.retention.holds import place_hold, release_hold

pytestmark = pytest.mark.django_db

URL = "/api/v1/legal-holds/"


@pytest.fixture
def reader_api(django_user_model):
    user = django_user_model.objects.create_user("holds-reader")
    user.groups.add(Group.objects.get(name="Audit Reader"))
    client = APIClient()
    client.force_login(user)
    return client


def test_lists_active_and_released_holds_newest_first(reader_api):
    place_hold("First", reason="order 1", filters={"correlation_id": "c1"}, username="alice")
    place_hold("Second", reason="order 2", event_ids=["id-1", "id-2"], username="bob")
    release_hold("First", reason="settled", username="carol")

    response = reader_api.get(URL)

    assert response.status_code == 200
    second, first = response.json()["results"]
    assert second["name"] == "Second"
    assert second["active"] is True
    assert second["event_ids"] == ["id-1", "id-2"]
    assert second["filters"] == {}
    assert second["placed_by"] == "bob"
    assert second["release"] is None
    assert first["active"] is False
    assert first["filters"] == {"correlation_id": "c1"}
    assert first["release"]["reason"] == "settled"
    assert first["release"]["released_by"] == "carol"
    detail = reader_api.get(f"{URL}{second['id']}/")
    assert detail.json() == second


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_holds_cannot_be_written_through_the_api(reader_api, django_user_model, method):
    hold = place_hold("Fixed", reason="r", filters={"correlation_id": "c"}, username="x")
    admin = APIClient()
    admin.force_login(django_user_model.objects.create_superuser("root", password="unused-pw"))
    url = URL if method == "post" else f"{URL}{hold.pk}/"
    response = getattr(admin, method)(url, {"name": "Changed", "reason": "x"}, format="json")
    assert response.status_code == 405
    assert LegalHold.objects.get().name == "Fixed"


def test_without_the_view_permission_nothing_is_shown(django_user_model):
    client = APIClient()
    client.force_login(django_user_model.objects.create_user("nobody"))
    assert client.get(URL).status_code == 403
