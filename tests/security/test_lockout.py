"""Repeated failed sign-ins lock a username out from that address for a while (django-axes)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.contrib.auth.signals import user_login_failed
from django.test import Client, override_settings
from hypothesis import example, given
from hypothesis import strategies as st
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.support import DATABASE_EXAMPLES

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lockout")]

LOGIN_URL = "/admin/login/?next=/admin/"
PASSWORD = "the-right-password-123"
ATTACKER = "198.51.100.7"


@pytest.fixture
def lockout(settings):
    """The suite runs with the lockout off (client.login passes no request); on here."""
    with override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=5):
        yield


@pytest.fixture
def auditor(django_user_model):
    user = django_user_model.objects.create_user("auditor", password=PASSWORD, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    return user


def sign_in(password: str, address: str = ATTACKER, username: str = "auditor"):
    return Client(REMOTE_ADDR=address).post(LOGIN_URL, {"username": username, "password": password})


def fail(times: int, address: str = ATTACKER) -> None:
    for _ in range(times):
        assert sign_in("wrong", address).status_code == 200  # the form again, with an error


def lock_out() -> None:
    fail(4)
    assert sign_in("wrong").status_code == 429


def test_the_fifth_failure_locks_the_account_from_that_address(auditor):
    fail(4)
    assert sign_in("wrong").status_code == 429
    locked = sign_in(PASSWORD)
    assert locked.status_code == 429, "even the right password is refused while locked"
    assert "locked" in locked.content.decode().lower()


def test_the_owner_elsewhere_still_signs_in(auditor):
    lock_out()
    response = sign_in(PASSWORD, address="203.0.113.20")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_a_successful_sign_in_resets_the_count(auditor):
    fail(4)
    assert sign_in(PASSWORD).status_code == 302
    fail(4)
    assert sign_in(PASSWORD).status_code == 302


def test_the_lockout_expires_after_the_cool_off(auditor):
    lock_out()
    assert sign_in(PASSWORD).status_code == 429
    with override_settings(AXES_COOLOFF_TIME=timedelta(microseconds=1)):
        assert sign_in(PASSWORD).status_code == 302


def test_every_failed_attempt_still_sends_the_failed_sign_in_signal(auditor):
    usernames = []

    def receiver(sender, credentials, **kwargs):
        usernames.append(credentials.get("username"))

    user_login_failed.connect(receiver)
    try:
        fail(4)
        sign_in("wrong")  # the fifth: locks
        sign_in(PASSWORD)  # refused while locked
    finally:
        user_login_failed.disconnect(receiver)
    assert usernames == ["auditor"] * 6


def test_api_tokens_and_sessions_are_not_affected(auditor):
    _, token = AuthToken.objects.create(auditor)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/events/").status_code == 200
    session = Client()
    session.force_login(auditor)
    assert session.get("/api/v1/events/").status_code == 200


# -- whatever name is tried ----------------------------------------------------------------
# The lockout stores the name tried in django-axes' own table, whose column holds 255
# characters; PostgreSQL refuses a longer value where SQLite stores it whole.
@DATABASE_EXAMPLES
@example(username="u" * 1000)
@example(username="u" * 256)
@example(username="a\x00b")
@given(username=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=1200))
def test_any_name_tried_is_a_refusal_never_a_server_error(username):
    response = sign_in("wrong", username=username)
    # The form again, with its error; or, once a name drawn again has failed five times from
    # this address, the lockout's refusal.
    assert response.status_code in (200, 429)


def test_names_longer_than_the_lockout_keeps_are_counted_by_what_it_keeps(auditor):
    """Two names that differ only past the 255 characters kept are one name to the lockout:
    a guesser cannot dodge the count by varying what the database would cut."""
    stem = "u" * 255
    for number in range(4):
        assert sign_in("wrong", username=f"{stem}{number}").status_code == 200
    assert sign_in("wrong", username=f"{stem}-other").status_code == 429
    # Another name from the same address is its own count.
    assert sign_in("wrong", username="someone-else").status_code == 200
