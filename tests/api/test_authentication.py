"""Who may read: signed in by session or token, and holding the view-events permission."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.support import (
    EVENTS_URL,
    SIX_ACTIVITIES_NEWEST_FIRST,
    activities,
    view_events_permission,
)

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    EVENTS_URL,
    "/api/v1/services/",
    "/api/v1/categories/",
    "/api/v1/activities/",
    "/api/v1/initiators/",
]


@pytest.mark.parametrize("url", ENDPOINTS)
def test_anonymous_is_asked_to_authenticate(six_events, url):
    response = APIClient().get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_anonymous_cannot_read_an_event(six_events):
    assert APIClient().get(f"{EVENTS_URL}1/").status_code == 401


def test_anonymous_gets_401_before_any_parameter_check(six_events):
    assert APIClient().get(EVENTS_URL, {"categroy": "x"}).status_code == 401


@pytest.mark.parametrize("url", ENDPOINTS)
def test_signed_in_without_the_permission_is_403(six_events, django_user_model, url):
    client = APIClient()
    client.force_login(django_user_model.objects.create_user("nobody"))
    assert client.get(url).status_code == 403


def test_the_permission_through_a_group_is_enough(six_events, django_user_model):
    readers = Group.objects.create(name="Readers")
    readers.permissions.add(view_events_permission())
    user = django_user_model.objects.create_user("member")
    user.groups.add(readers)
    client = APIClient()
    client.force_login(user)
    assert activities(client.get(EVENTS_URL)) == SIX_ACTIVITIES_NEWEST_FIRST


def test_superuser_passes(six_events, django_user_model):
    client = APIClient()
    client.force_login(django_user_model.objects.create_superuser("root", password="unused"))
    assert activities(client.get(EVENTS_URL)) == SIX_ACTIVITIES_NEWEST_FIRST


def test_inactive_user_is_refused(six_events, reader):
    reader.is_active = False
    reader.save()
    client = APIClient()
    client.force_login(reader)
    assert client.get(EVENTS_URL).status_code in (401, 403)


def test_token_authentication(six_events, reader):
    _, token = AuthToken.objects.create(reader)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert activities(client.get(EVENTS_URL)) == SIX_ACTIVITIES_NEWEST_FIRST


def test_tokens_are_stored_hashed_and_expire(reader):
    instance, token = AuthToken.objects.create(reader)
    assert token not in instance.digest
    lifetime = instance.expiry - instance.created
    assert abs(lifetime - timedelta(days=30)) < timedelta(seconds=5)


def test_wrong_or_expired_token_is_401(six_events, reader):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 64)
    assert client.get(EVENTS_URL).status_code == 401

    _, token = AuthToken.objects.create(reader, expiry=timedelta(seconds=-1))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(EVENTS_URL).status_code == 401


def test_token_of_a_user_without_the_permission_is_403(six_events, django_user_model):
    _, token = AuthToken.objects.create(django_user_model.objects.create_user("nobody"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(EVENTS_URL).status_code == 403


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_api_is_read_only(api, six_events, method):
    response = getattr(api, method)(f"{EVENTS_URL}1/")
    assert response.status_code in (403, 405)
    response = getattr(api, method)(EVENTS_URL)
    assert response.status_code in (403, 405)
