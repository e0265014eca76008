"""API tokens from the admin: created with an expiry, shown once, stored hashed, revocable."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework.test import APIClient

from logs.models import AccessRecord
from logs.roles import AUDIT_READER, INGESTION_SERVICE

pytestmark = pytest.mark.django_db

TOKENS = "/admin/knox/authtoken/"


def member(django_user_model, username, role, *, is_staff=True):
    user = django_user_model.objects.create_user(username, password="unused-pw", is_staff=is_staff)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def root_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", password="unused-pw"))
    return client


@pytest.fixture
def service_account(django_user_model):
    return member(django_user_model, "ingest-svc", INGESTION_SERVICE, is_staff=False)


def shown_token(response) -> str:
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    return re.search(
        r'id="api-token" readonly size="72" value="([^"]+)"', response.content.decode()
    )[1]


def test_an_administrator_creates_a_token_for_a_service_account(root_client, service_account):
    response = root_client.post(f"{TOKENS}add/", {"user": service_account.pk, "valid_for": "90"})
    token = shown_token(response)
    stored = AuthToken.objects.get()
    assert stored.user == service_account
    assert stored.digest == hash_token(token) and token not in (stored.digest, stored.token_key)
    assert token.startswith(stored.token_key)
    expected_expiry = timezone.now() + timedelta(days=90)
    assert abs(stored.expiry - expected_expiry) < timedelta(minutes=1)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/events/").status_code == 403  # the service reads nothing


def test_the_token_is_shown_only_once(root_client, service_account):
    token = shown_token(
        root_client.post(f"{TOKENS}add/", {"user": service_account.pk, "valid_for": "7"})
    )
    stored = AuthToken.objects.get()
    for page in (TOKENS, f"{TOKENS}{stored.pk}/change/"):
        html = root_client.get(page).content.decode()
        assert token not in html  # the digest is the row's key; it cannot sign anyone in
        assert stored.token_key in html


def test_the_list_shows_user_created_expiry_and_prefix(root_client, service_account):
    AuthToken.objects.create(service_account, expiry=timedelta(days=7))
    html = root_client.get(TOKENS).content.decode()
    for header in ("User", "Prefix", "Created", "Expiry", "Status"):
        assert header in html
    assert "ingest-svc" in html and "active" in html


def test_a_reader_creates_lists_and_revokes_only_his_own_tokens(
    client, django_user_model, service_account
):
    reader = member(django_user_model, "reader", AUDIT_READER)
    others, _ = AuthToken.objects.create(service_account)
    client.force_login(reader)
    # A user field in the post is ignored: a reader's token is always his own.
    token = shown_token(
        client.post(f"{TOKENS}add/", {"user": service_account.pk, "valid_for": "30"})
    )
    own = AuthToken.objects.get(user=reader)
    assert own.digest == hash_token(token)
    assert list(client.get(TOKENS).context_data["cl"].result_list) == [own]
    assert client.get(f"{TOKENS}{others.pk}/change/").status_code == 302  # not found for him
    client.post(f"{TOKENS}{others.pk}/delete/", {"post": "yes"})
    assert AuthToken.objects.filter(pk=others.pk).exists()
    client.post(f"{TOKENS}{own.pk}/delete/", {"post": "yes"})
    assert not AuthToken.objects.filter(user=reader).exists()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/events/").status_code == 401


def test_a_user_without_a_reading_role_has_no_token_page(client, django_user_model):
    client.force_login(member(django_user_model, "svc-staff", INGESTION_SERVICE))
    assert client.get(TOKENS).status_code == 403
    assert client.get(f"{TOKENS}add/").status_code == 403


def test_creation_and_revocation_are_recorded_with_the_administrator(root_client, service_account):
    shown_token(
        root_client.post(
            f"{TOKENS}add/", {"user": service_account.pk, "valid_for": "30"}, REMOTE_ADDR="10.1.2.3"
        )
    )
    stored = AuthToken.objects.get()
    root_client.post(
        TOKENS, {"action": "delete_selected", "_selected_action": [stored.pk], "post": "yes"}
    )
    assert not AuthToken.objects.exists()
    created, revoked = AccessRecord.objects.filter(action="token").order_by("id")
    assert created.username == revoked.username == "root"
    assert created.remote_address == "10.1.2.3"
    assert created.detail["change"] == "created" and revoked.detail["change"] == "revoked"
    assert created.detail["token_user"] == "ingest-svc"
    assert created.detail["token_prefix"] == revoked.detail["token_prefix"] == stored.token_key


def test_a_token_cannot_be_edited(root_client, service_account):
    stored, _ = AuthToken.objects.create(service_account, expiry=timedelta(days=1))
    root_client.post(f"{TOKENS}{stored.pk}/change/", {"valid_for": "365"})
    assert AuthToken.objects.get().expiry == stored.expiry
