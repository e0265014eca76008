"""The client's address behind a reverse proxy: the lockout and the access trail take it from
X-Forwarded-For only when AUDITPORTAL_BEHIND_PROXY says a proxy sets that header."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.test import Client, RequestFactory, override_settings

from logs.client_address import client_address
from logs.models import AccessRecord

ROOT = Path(__file__).resolve().parents[2]
LOGIN_URL = "/admin/login/?next=/admin/"
PASSWORD = "the-right-password-123"
PROXY = "10.0.0.2"
ALICE = "198.51.100.7"
BOB = "203.0.113.20"
FAILURES = 5

behind_one_proxy = override_settings(AUDITPORTAL_PROXY_COUNT=1)


@pytest.fixture
def lockout():
    """The suite runs with the lockout off (client.login passes no request); on here."""
    with override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=FAILURES):
        yield


@pytest.fixture
def auditor(django_user_model):
    user = django_user_model.objects.create_user("auditor", password=PASSWORD, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    return user


def sign_in(password: str, forwarded_for: str | None, remote: str = PROXY) -> int:
    headers = {} if forwarded_for is None else {"HTTP_X_FORWARDED_FOR": forwarded_for}
    client = Client(REMOTE_ADDR=remote, **headers)
    return client.post(LOGIN_URL, {"username": "auditor", "password": password}).status_code


def failed_sign_in_addresses() -> list[str]:
    failed = AccessRecord.objects.filter(action=AccessRecord.Action.SIGN_IN_FAILED)
    return list(failed.order_by("id").values_list("remote_address", flat=True))


# -- the address -------------------------------------------------------------------------------
def address(remote: str, forwarded_for: str | None = None) -> str | None:
    headers = {} if forwarded_for is None else {"HTTP_X_FORWARDED_FOR": forwarded_for}
    return client_address(RequestFactory().get("/", REMOTE_ADDR=remote, **headers))


def test_without_a_proxy_a_forwarded_header_is_ignored():
    assert address(PROXY, ALICE) == PROXY
    assert address(ALICE, f"{BOB}, 192.0.2.1") == ALICE


@behind_one_proxy
def test_behind_a_proxy_the_right_most_forwarded_entry_is_the_client():
    assert address(PROXY, ALICE) == ALICE
    # What the client sent itself comes first; the proxy appends the address it saw.
    assert address(PROXY, f"{BOB}, {ALICE}") == ALICE
    assert address(PROXY, f"{BOB},{ALICE}") == ALICE
    assert address(PROXY, "2001:db8::1") == "2001:db8::1"


@behind_one_proxy
def test_behind_a_proxy_a_missing_or_malformed_header_falls_back_to_the_connection():
    assert address(PROXY) == PROXY
    assert address(PROXY, "") == PROXY
    assert address(PROXY, f"{ALICE}, not-an-address") == PROXY
    assert address("not-an-address", "also-not") is None


@override_settings(AUDITPORTAL_PROXY_COUNT=2)
def test_behind_two_proxies_the_client_is_second_from_the_right():
    assert address(PROXY, f"{BOB}, {ALICE}, 10.0.0.1") == ALICE
    assert address(PROXY, ALICE) == PROXY, "a request that skipped the outer proxy"


# -- the lockout and the trail -------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.usefixtures("lockout")
def test_without_a_proxy_a_forged_header_neither_escapes_the_lockout_nor_names_an_address(
    auditor,
):
    for attempt in range(FAILURES - 1):
        assert sign_in("wrong", forwarded_for=f"192.0.2.{attempt + 1}", remote=ALICE) == 200
    assert sign_in("wrong", forwarded_for="192.0.2.99", remote=ALICE) == 429
    assert set(failed_sign_in_addresses()) == {ALICE}


@pytest.mark.django_db
@pytest.mark.usefixtures("lockout")
@behind_one_proxy
def test_behind_a_proxy_failures_are_counted_per_forwarded_client(auditor):
    for _ in range(FAILURES - 1):
        assert sign_in("wrong", forwarded_for=ALICE) == 200
    assert sign_in("wrong", forwarded_for=ALICE) == 429
    assert sign_in(PASSWORD, forwarded_for=ALICE) == 429, "alice's address is locked out"
    # Through the same proxy, another client's sign-ins are counted on their own.
    assert sign_in("wrong", forwarded_for=BOB) == 200
    assert sign_in(PASSWORD, forwarded_for=BOB) == 302
    # A client cannot leave the lockout by putting another address first in the header.
    assert sign_in(PASSWORD, forwarded_for=f"{BOB}, {ALICE}") == 429
    addresses = failed_sign_in_addresses()
    assert addresses[: FAILURES + 2] == [ALICE] * (FAILURES + 1) + [BOB]
    assert PROXY not in addresses
    signed_in = AccessRecord.objects.get(action=AccessRecord.Action.SIGN_IN)
    assert signed_in.remote_address == BOB


# -- the setting -------------------------------------------------------------------------------
def settings_in_a_child(**environment: str) -> subprocess.CompletedProcess:
    """Read the real settings in a fresh process with ``environment`` set."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"AUDITPORTAL_BEHIND_PROXY", "AUDITPORTAL_PROXY_COUNT"}
    }
    env.update(DJANGO_SETTINGS_MODULE="auditportal.settings", DEBUG="1", **environment)
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.AUDITPORTAL_PROXY_COUNT, settings.REST_FRAMEWORK['NUM_PROXIES'])"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_the_proxy_setting_is_off_by_default_and_counts_proxies_when_on():
    assert settings_in_a_child().stdout.split() == ["0", "0"]
    assert settings_in_a_child(AUDITPORTAL_BEHIND_PROXY="1").stdout.split() == ["1", "1"]
    two = settings_in_a_child(AUDITPORTAL_BEHIND_PROXY="1", AUDITPORTAL_PROXY_COUNT="2")
    assert two.stdout.split() == ["2", "2"]
    ignored = settings_in_a_child(AUDITPORTAL_PROXY_COUNT="2")
    assert ignored.stdout.split() == ["0", "0"], "the count alone turns nothing on"
    refused = settings_in_a_child(AUDITPORTAL_BEHIND_PROXY="1", AUDITPORTAL_PROXY_COUNT="0")
    assert refused.returncode != 0
    assert "AUDITPORTAL_PROXY_COUNT must be 1 or more" in refused.stderr
