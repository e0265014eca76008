"""The access trail: sign-ins, role membership and API tokens leave AccessRecords."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from logs.access_trail import record_access
from logs.models import AccessRecord
from logs.roles import AUDIT_EXPORTER, AUDIT_READER

pytestmark = pytest.mark.django_db

Action = AccessRecord.Action
LOGIN = "/admin/login/"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Trail/1.0"


def records(action):
    return list(AccessRecord.objects.filter(action=action).order_by("id"))


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser("admin", password="admin-pw-1234")


# -- record_access -------------------------------------------------------------------------
def test_record_access_takes_user_address_and_agent_from_the_request(django_user_model):
    user = django_user_model.objects.create_user("alice")
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT=BROWSER)
    request.user = user
    record = record_access(Action.QUERY, request=request, detail={"q": 1}, row_count=3)
    assert (record.user, record.username, record.remote_address) == (user, "alice", "203.0.113.9")
    assert (record.user_agent, record.detail, record.row_count) == (BROWSER, {"q": 1}, 3)


def test_record_access_without_a_request_names_nobody():
    record = record_access(Action.ANNOTATE, username="ops")
    assert (record.user, record.username, record.remote_address) == (None, "ops", None)


def test_record_access_keeps_a_malformed_address_out_and_bounds_the_agent():
    request = RequestFactory().get("/", REMOTE_ADDR="not-an-ip", HTTP_USER_AGENT="x" * 5000)
    record = record_access(Action.QUERY, request=request, user=None)
    assert record.remote_address is None and len(record.user_agent) == 1000


# -- sign-in -------------------------------------------------------------------------------
def test_sign_in_is_recorded_with_address_and_user_agent(client, admin_user):
    response = client.post(
        LOGIN,
        {"username": "admin", "password": "admin-pw-1234", "next": "/admin/"},
        REMOTE_ADDR="198.51.100.7",
        HTTP_USER_AGENT=BROWSER,
    )
    assert response.status_code == 302
    [record] = records(Action.SIGN_IN)
    assert (record.user, record.username) == (admin_user, "admin")
    assert (record.remote_address, record.user_agent) == ("198.51.100.7", BROWSER)


def test_failed_sign_in_records_the_name_tried_never_the_password(client, admin_user):
    client.post(
        LOGIN,
        {"username": "admin", "password": "wrong-guess-5678"},
        REMOTE_ADDR="198.51.100.8",
        HTTP_USER_AGENT=BROWSER,
    )
    client.post(LOGIN, {"username": "nosuchuser", "password": "x"})
    first, second = records(Action.SIGN_IN_FAILED)
    assert (first.user, first.username, first.remote_address) == (None, "admin", "198.51.100.8")
    assert first.user_agent == BROWSER
    assert second.username == "nosuchuser"
    assert "wrong-guess" not in str(first.detail)
    assert not records(Action.SIGN_IN)


def test_a_very_long_name_tried_is_cut_to_the_field(client):
    client.post(LOGIN, {"username": "u" * 1000, "password": "x"})
    [record] = records(Action.SIGN_IN_FAILED)
    assert record.username == "u" * 256


# -- role membership -----------------------------------------------------------------------
@pytest.fixture
def reader_group():
    return Group.objects.get(name=AUDIT_READER)


def test_adding_and_removing_a_role_from_the_user_side(django_user_model, reader_group):
    user = django_user_model.objects.create_user("bob")
    user.groups.add(reader_group)
    user.groups.remove(reader_group)
    added, removed = records(Action.ROLE)
    assert added.detail == {"change": "added", "members": ["bob"], "groups": [AUDIT_READER]}
    assert removed.detail == {"change": "removed", "members": ["bob"], "groups": [AUDIT_READER]}
    assert added.user is None  # not made through the portal: nobody to name


def test_adding_members_from_the_group_side(django_user_model, reader_group):
    bob = django_user_model.objects.create_user("bob")
    carol = django_user_model.objects.create_user("carol")
    reader_group.user_set.add(bob, carol)
    [record] = records(Action.ROLE)
    assert record.detail == {
        "change": "added",
        "members": ["bob", "carol"],
        "groups": [AUDIT_READER],
    }
    assert record.row_count == 2


def test_clear_from_either_side_names_who_was_removed(django_user_model, reader_group):
    exporters = Group.objects.get(name=AUDIT_EXPORTER)
    bob = django_user_model.objects.create_user("bob")
    carol = django_user_model.objects.create_user("carol")
    bob.groups.add(reader_group, exporters)
    carol.groups.add(reader_group)
    bob.groups.clear()
    reader_group.user_set.clear()
    user_side, group_side = records(Action.ROLE)[-2:]
    assert user_side.detail == {
        "change": "removed",
        "members": ["bob"],
        "groups": sorted([AUDIT_EXPORTER, AUDIT_READER]),
    }
    assert group_side.detail == {
        "change": "removed",
        "members": ["carol"],
        "groups": [AUDIT_READER],
    }


def test_adding_a_role_already_held_records_nothing(django_user_model, reader_group):
    user = django_user_model.objects.create_user("bob")
    user.groups.add(reader_group)
    user.groups.add(reader_group)
    user.groups.clear()
    user.groups.clear()
    assert [r.detail["change"] for r in records(Action.ROLE)] == ["added", "removed"]


def test_deleting_a_user_or_a_group_records_the_memberships_it_ends(
    django_user_model, reader_group
):
    bob = django_user_model.objects.create_user("bob")
    carol = django_user_model.objects.create_user("carol")
    temporary = Group.objects.create(name="Temporary auditors")
    bob.groups.add(reader_group)
    temporary.user_set.add(carol)
    bob.delete()
    temporary.delete()
    user_deleted, group_deleted = records(Action.ROLE)[-2:]
    assert user_deleted.detail == {
        "change": "removed",
        "members": ["bob"],
        "groups": [AUDIT_READER],
        "reason": "user deleted",
    }
    assert group_deleted.detail == {
        "change": "removed",
        "members": ["carol"],
        "groups": ["Temporary auditors"],
        "reason": "group deleted",
    }
    django_user_model.objects.create_user("dave").delete()  # no memberships: nothing to record
    assert len(records(Action.ROLE)) == 4


def test_a_change_through_the_admin_names_the_administrator(
    client, admin_user, django_user_model, reader_group
):
    bob = django_user_model.objects.create_user("bob", password="bob-pw-1234")
    client.force_login(admin_user)
    response = client.post(
        f"/admin/auth/user/{bob.pk}/change/",
        {
            "username": "bob",
            "is_active": "on",
            "is_staff": "on",
            "groups": [str(reader_group.pk)],
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
        REMOTE_ADDR="192.0.2.44",
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    [record] = records(Action.ROLE)
    assert (record.user, record.username, record.remote_address) == (
        admin_user,
        "admin",
        "192.0.2.44",
    )
    assert record.detail == {"change": "added", "members": ["bob"], "groups": [AUDIT_READER]}


# -- API tokens ----------------------------------------------------------------------------
def test_token_creation_and_revocation_are_recorded(django_user_model):
    user = django_user_model.objects.create_user("svc")
    token, _ = AuthToken.objects.create(user, expiry=timedelta(days=7))
    digest = token.digest
    token.delete()
    created, revoked = records(Action.TOKEN)
    assert created.detail["change"] == "created" and revoked.detail["change"] == "revoked"
    for record in (created, revoked):
        assert record.detail["token_user"] == "svc"
        assert record.detail["token_prefix"] == token.token_key
        assert record.detail["expiry"] == token.expiry.isoformat()
    assert digest not in str(created.detail)


def test_an_expired_token_removed_by_knox_is_recorded_as_expired(django_user_model):
    user = django_user_model.objects.create_user("svc")
    token, key = AuthToken.objects.create(user, expiry=timedelta(days=1))
    AuthToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - timedelta(minutes=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/events/").status_code == 401
    assert [r.detail["change"] for r in records(Action.TOKEN)] == ["created", "expired"]
