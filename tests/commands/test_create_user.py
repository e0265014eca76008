"""create_user: a user in one of the portal's roles, the password never on the command line,
the role recorded in the access trail."""

import getpass

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from hypothesis import example, given
from hypothesis import strategies as st

from logs.access_trail import operating_system_user
from logs.models import AccessRecord
from logs.roles import ROLE_PERMISSIONS
from tests.support import DATABASE_EXAMPLES

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple-7"
TERMINAL = "logs.management.commands.create_user.os.isatty"


def create(*args):
    call_command("create_user", *args)
    return get_user_model().objects.get(username=args[0])


@pytest.mark.parametrize("role", list(ROLE_PERMISSIONS))
def test_creates_a_user_in_the_role_and_records_it(monkeypatch, role):
    monkeypatch.setenv("NEW_USER_PASSWORD", PASSWORD)
    user = create("alice", "--role", role, "--password-env", "NEW_USER_PASSWORD")
    assert user.check_password(PASSWORD)
    assert list(user.groups.values_list("name", flat=True)) == [role]
    # Everyone who uses the portal needs the staff flag; an ingestion service only tokens.
    assert user.is_staff == (role != "Ingestion Service")
    assert not user.is_superuser
    assert sorted(user.get_all_permissions()) == sorted(ROLE_PERMISSIONS[role])
    record = AccessRecord.objects.get(action=AccessRecord.Action.ROLE)
    assert record.detail == {
        "change": "added",
        "members": ["alice"],
        "groups": [role],
        "via": "manage.py create_user",
    }
    assert record.username == operating_system_user() and record.user is None


def test_the_password_can_be_typed_twice_at_a_prompt(monkeypatch):
    monkeypatch.setattr(getpass, "getpass", lambda prompt: PASSWORD)
    monkeypatch.setattr(TERMINAL, lambda fd: True)
    assert create("bob", "--role", "Audit Reader").check_password(PASSWORD)


def test_two_different_passwords_create_nothing(monkeypatch):
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt: next(answers))
    monkeypatch.setattr(TERMINAL, lambda fd: True)
    with pytest.raises(CommandError, match="differ"):
        call_command("create_user", "bob", "--role", "Audit Reader")
    assert not get_user_model().objects.filter(username="bob").exists()


def test_without_a_terminal_it_asks_for_the_environment_variable(monkeypatch):
    monkeypatch.setattr(TERMINAL, lambda fd: False)
    with pytest.raises(CommandError, match="--password-env"):
        call_command("create_user", "bob", "--role", "Audit Reader")


@pytest.mark.parametrize(
    ("password", "message"),
    [("short", "too short"), ("password123", "too common"), ("carol-the-user", "similar")],
)
def test_a_weak_password_is_refused_and_nothing_created(monkeypatch, password, message):
    monkeypatch.setenv("NEW_USER_PASSWORD", password)
    with pytest.raises(CommandError, match=message):
        create("carol-the-user", "--role", "Audit Reader", "--password-env", "NEW_USER_PASSWORD")
    assert not get_user_model().objects.filter(username="carol-the-user").exists()
    assert not AccessRecord.objects.exists()


def test_refusals_change_nothing(monkeypatch, django_user_model):
    monkeypatch.setenv("NEW_USER_PASSWORD", PASSWORD)
    django_user_model.objects.create_user("dave", password="old-password-xyz-1")
    with pytest.raises(CommandError, match="exists already"):
        create("dave", "--role", "Audit Exporter", "--password-env", "NEW_USER_PASSWORD")
    assert django_user_model.objects.get(username="dave").check_password("old-password-xyz-1")
    with pytest.raises(CommandError, match="invalid choice"):
        create("erin", "--role", "Auditor", "--password-env", "NEW_USER_PASSWORD")
    with pytest.raises(CommandError, match="not set"):
        create("erin", "--role", "Audit Reader", "--password-env", "NOPE")
    Group.objects.filter(name="Audit Reader").delete()
    with pytest.raises(CommandError, match="setup_roles"):
        create("erin", "--role", "Audit Reader", "--password-env", "NEW_USER_PASSWORD")
    assert not django_user_model.objects.filter(username="erin").exists()
    assert not AccessRecord.objects.filter(action=AccessRecord.Action.ROLE).exists()


# -- whatever name and address are given -----------------------------------------------------
@DATABASE_EXAMPLES
@example(username="x" * 300, email="")
@example(username="erin", email="x" * 300 + "@example.com")
@example(username="a\x00b", email="")
@example(username="erin", email="e\x00@example.com")
@given(username=st.text(min_size=1, max_size=300), email=st.text(max_size=300))
def test_any_name_or_address_creates_the_user_or_is_refused_with_a_reason(
    monkeypatch, username, email
):
    monkeypatch.setenv("NEW_USER_PASSWORD", PASSWORD)
    users = get_user_model()
    try:
        call_command(
            "create_user",
            username,
            "--role",
            "Audit Reader",
            "--password-env",
            "NEW_USER_PASSWORD",
            "--email",
            email,
        )
    except CommandError:
        # Refused (by the command, or by its argument parser for a name such as "-x"): a
        # message, and nothing created.
        assert not users.objects.exists()
    else:
        user = users.objects.get(username=username)
        user.full_clean(exclude=["password"])  # what the command stored, a form would accept
        user.delete()


def test_a_refused_name_says_which_field_and_why(monkeypatch):
    monkeypatch.setenv("NEW_USER_PASSWORD", PASSWORD)
    with pytest.raises(
        CommandError, match=r"refused \(username: Ensure this value has at most 150"
    ):
        create("x" * 151, "--role", "Audit Reader", "--password-env", "NEW_USER_PASSWORD")
    assert not get_user_model().objects.exists()
