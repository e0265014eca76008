"""The access trail's record of what administrators do to accounts: direct permissions, the
superuser, staff and active flags, password changes, and the API tokens those revoke."""

import getpass
import io
import json

import pytest
from django.contrib.auth.management.commands import changepassword
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import override_settings
from knox.models import AuthToken

from logs.models import AccessRecord
from logs.roles import AUDIT_READER
from tests.processes import ProcessDatabase, manage

pytestmark = pytest.mark.django_db

Action = AccessRecord.Action
VIEW_EVENTS = "logs.view_auditevent"
EXPORT_EVENTS = "logs.export_auditevent"


def records(action):
    """The records of ``action``, but for the accounts the tests start from being created."""
    found = AccessRecord.objects.filter(action=action).order_by("id")
    return list(found.exclude(action=Action.ACCOUNT, detail__change="created"))


def created_records():
    return list(AccessRecord.objects.filter(action=Action.ACCOUNT, detail__change="created"))


def permission(name: str) -> Permission:
    app_label, codename = name.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser("admin", password="admin-pw-1234")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", password="bob-pw-1234", is_staff=True)


def token_count(user) -> int:
    return AuthToken.objects.filter(user=user).count()


def change_form(user, **fields) -> dict:
    """The admin's user change form as a browser sends it, with ``fields`` on top."""
    form = {
        "username": user.username,
        "is_active": "on" if user.is_active else "",
        "is_staff": "on" if user.is_staff else "",
        "is_superuser": "on" if user.is_superuser else "",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    form.update(fields)
    return {name: value for name, value in form.items() if value != ""}


# -- direct permissions --------------------------------------------------------------------
def test_granting_and_withdrawing_a_permission_from_the_user_side(bob):
    bob.user_permissions.add(permission(VIEW_EVENTS), permission(EXPORT_EVENTS))
    bob.user_permissions.remove(permission(EXPORT_EVENTS))
    added, removed = records(Action.PERMISSION)
    assert added.detail == {
        "change": "added",
        "members": ["bob"],
        "permissions": [EXPORT_EVENTS, VIEW_EVENTS],
    }
    assert added.row_count == 2
    assert removed.detail == {
        "change": "removed",
        "members": ["bob"],
        "permissions": [EXPORT_EVENTS],
    }


def test_granting_from_the_permission_side_and_clearing_from_either(django_user_model, bob):
    carol = django_user_model.objects.create_user("carol")
    view = permission(VIEW_EVENTS)
    view.user_set.add(bob, carol)
    bob.user_permissions.add(permission(EXPORT_EVENTS))
    bob.user_permissions.clear()
    view.user_set.clear()  # only carol holds it now
    view.user_set.clear()  # nobody: nothing to record
    added, _, bob_cleared, view_cleared = records(Action.PERMISSION)
    assert added.detail == {
        "change": "added",
        "members": ["bob", "carol"],
        "permissions": [VIEW_EVENTS],
    }
    assert bob_cleared.detail == {
        "change": "removed",
        "members": ["bob"],
        "permissions": [EXPORT_EVENTS, VIEW_EVENTS],
    }
    assert view_cleared.detail == {
        "change": "removed",
        "members": ["carol"],
        "permissions": [VIEW_EVENTS],
    }
    assert len(records(Action.PERMISSION)) == 4


def test_deleting_a_user_records_the_permissions_it_held_and_the_deletion(bob):
    bob.user_permissions.add(permission(VIEW_EVENTS))
    bob.delete()
    removed = records(Action.PERMISSION)[-1]
    assert removed.detail == {
        "change": "removed",
        "members": ["bob"],
        "permissions": [VIEW_EVENTS],
        "reason": "user deleted",
    }
    [deleted] = records(Action.ACCOUNT)
    assert deleted.detail == {"change": "deleted", "members": ["bob"]}


def test_deleting_a_permission_records_whom_it_was_taken_from(bob):
    content_type = permission(VIEW_EVENTS).content_type
    temporary = Permission.objects.create(
        codename="temporary_check", name="Temporary check", content_type=content_type
    )
    bob.user_permissions.add(temporary)
    temporary.delete()
    removed = records(Action.PERMISSION)[-1]
    assert removed.detail == {
        "change": "removed",
        "members": ["bob"],
        "permissions": ["logs.temporary_check"],
        "reason": "permission deleted",
    }


def test_a_grant_through_the_admin_names_the_administrator(client, admin_user, bob):
    client.force_login(admin_user)
    view = permission(VIEW_EVENTS)
    response = client.post(
        f"/admin/auth/user/{bob.pk}/change/",
        change_form(bob, user_permissions=[str(view.pk)]),
        REMOTE_ADDR="192.0.2.44",
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    [record] = records(Action.PERMISSION)
    assert (record.user, record.username, record.remote_address) == (
        admin_user,
        "admin",
        "192.0.2.44",
    )
    assert record.detail == {"change": "added", "members": ["bob"], "permissions": [VIEW_EVENTS]}
    assert not records(Action.ACCOUNT), "nothing else about bob changed"


# -- flags -------------------------------------------------------------------------------------
def test_a_new_account_is_recorded_with_its_flags(django_user_model):
    django_user_model.objects.create_superuser("root", password="root-pw-1234")
    django_user_model.objects.create_user("svc")
    root, svc = sorted(created_records(), key=lambda record: record.id)
    assert root.detail == {
        "change": "created",
        "members": ["root"],
        "is_superuser": True,
        "is_staff": True,
        "is_active": True,
    }
    assert svc.detail == {
        "change": "created",
        "members": ["svc"],
        "is_superuser": False,
        "is_staff": False,
        "is_active": True,
    }
    assert "pw" not in str(root.detail)


def test_superuser_and_staff_changes_are_recorded_old_and_new(bob):
    bob.is_superuser = True
    bob.save()
    bob.is_staff = False
    bob.is_superuser = False
    bob.save()
    bob.save()  # nothing changed: nothing recorded
    promoted, demoted = records(Action.ACCOUNT)
    assert promoted.detail == {
        "change": "changed",
        "members": ["bob"],
        "is_superuser": {"old": False, "new": True},
    }
    assert demoted.detail == {
        "change": "changed",
        "members": ["bob"],
        "is_superuser": {"old": True, "new": False},
        "is_staff": {"old": True, "new": False},
    }


def test_the_stored_row_is_compared_not_what_the_instance_was_loaded_with(django_user_model, bob):
    stale = django_user_model.objects.get(pk=bob.pk)
    bob.is_superuser = True
    bob.save()
    stale.save()  # writes is_superuser False back over the promotion
    promoted, demoted = records(Action.ACCOUNT)
    assert promoted.detail["is_superuser"] == {"old": False, "new": True}
    assert demoted.detail["is_superuser"] == {"old": True, "new": False}


def test_flag_changes_through_the_admin_name_the_administrator(client, admin_user, bob):
    client.force_login(admin_user)
    response = client.post(
        f"/admin/auth/user/{bob.pk}/change/",
        change_form(bob, is_superuser="on"),
        REMOTE_ADDR="192.0.2.45",
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    [record] = records(Action.ACCOUNT)
    assert (record.user, record.remote_address) == (admin_user, "192.0.2.45")
    assert record.detail == {
        "change": "changed",
        "members": ["bob"],
        "is_superuser": {"old": False, "new": True},
    }


def test_a_sign_in_changes_nothing_recorded_about_the_account(client, bob):
    assert client.login(username="bob", password="bob-pw-1234")
    assert not records(Action.ACCOUNT)


# -- passwords and deactivation revoke tokens ---------------------------------------------------
def test_set_password_then_save_is_recorded_and_revokes_every_token(bob):
    first, _ = AuthToken.objects.create(bob)
    second, _ = AuthToken.objects.create(bob)
    old_hash = bob.password
    bob.set_password("a-new-password-5678")
    bob.save()
    [changed] = records(Action.ACCOUNT)
    assert changed.detail == {"change": "changed", "members": ["bob"], "password": "changed"}
    for secret in (old_hash, bob.password, "a-new-password-5678"):
        assert secret not in str(changed.detail)
    assert token_count(bob) == 0
    revoked = [r.detail for r in records(Action.TOKEN) if r.detail["change"] == "revoked"]
    assert sorted(d["token_prefix"] for d in revoked) == sorted([first.token_key, second.token_key])
    assert {(d["token_user"], d["reason"]) for d in revoked} == {("bob", "password changed")}


def test_a_password_change_leaves_other_users_tokens_alone(django_user_model, bob):
    carol = django_user_model.objects.create_user("carol")
    AuthToken.objects.create(carol)
    bob.set_password("a-new-password-5678")
    bob.save()
    assert token_count(carol) == 1


def test_an_unusable_password_is_a_change_too(bob):
    AuthToken.objects.create(bob)
    bob.set_unusable_password()
    bob.save()
    assert records(Action.ACCOUNT)[-1].detail["password"] == "changed"
    assert token_count(bob) == 0


def test_deactivation_revokes_tokens_and_reactivation_is_recorded(bob):
    AuthToken.objects.create(bob)
    bob.is_active = False
    bob.save()
    assert token_count(bob) == 0
    [revoked] = [r for r in records(Action.TOKEN) if r.detail["change"] == "revoked"]
    assert revoked.detail["reason"] == "user deactivated"
    bob.is_active = True
    bob.save()
    deactivated, reactivated = records(Action.ACCOUNT)
    assert deactivated.detail["is_active"] == {"old": True, "new": False}
    assert reactivated.detail["is_active"] == {"old": False, "new": True}


def test_other_changes_keep_the_tokens(bob):
    AuthToken.objects.create(bob)
    bob.is_superuser = True
    bob.email = "bob@example.com"
    bob.save()
    assert token_count(bob) == 1


@override_settings(
    PASSWORD_HASHERS=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
)
def test_a_hash_upgraded_at_sign_in_is_not_a_password_change(client, bob):
    assert bob.password.startswith("md5$")  # hashed with the suite's fast hasher
    AuthToken.objects.create(bob)
    assert client.login(username="bob", password="bob-pw-1234")
    bob.refresh_from_db()
    assert bob.password.startswith("pbkdf2_sha256$"), "Django rehashed it on sign-in"
    assert not records(Action.ACCOUNT)
    assert token_count(bob) == 1


def test_a_password_changed_in_the_admin_revokes_tokens_and_names_the_administrator(
    client, admin_user, bob
):
    AuthToken.objects.create(bob)
    client.force_login(admin_user)
    response = client.post(
        f"/admin/auth/user/{bob.pk}/password/",
        {"password1": "Another-pw-9876", "password2": "Another-pw-9876"},
        REMOTE_ADDR="192.0.2.46",
    )
    assert response.status_code == 302
    [changed] = records(Action.ACCOUNT)
    assert (changed.user, changed.remote_address) == (admin_user, "192.0.2.46")
    assert changed.detail["password"] == "changed"
    assert token_count(bob) == 0
    revoked = records(Action.TOKEN)[-1]
    assert (revoked.user, revoked.detail["reason"]) == (admin_user, "password changed")


def test_deactivation_in_the_admin_revokes_tokens(client, admin_user, bob):
    AuthToken.objects.create(bob)
    client.force_login(admin_user)
    response = client.post(f"/admin/auth/user/{bob.pk}/change/", change_form(bob, is_active=""))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert records(Action.ACCOUNT)[-1].detail["is_active"] == {"old": True, "new": False}
    assert token_count(bob) == 0


def test_the_changepassword_command_revokes_tokens(monkeypatch, bob):
    AuthToken.objects.create(bob)
    # The command asks twice at a terminal; the test types the answers.
    monkeypatch.setattr(changepassword.getpass, "getpass", lambda prompt="": "Cmd-pw-24680")
    call_command("changepassword", "bob", stdout=io.StringIO())
    assert records(Action.ACCOUNT)[-1].detail["password"] == "changed"
    assert token_count(bob) == 0


# -- commands ----------------------------------------------------------------------------------
def test_create_user_records_the_account_under_the_operating_system_user(monkeypatch):
    monkeypatch.setenv("NEW_USER_PASSWORD", "Create-user-pw-1357")
    call_command(
        "create_user",
        "dora",
        "--role",
        AUDIT_READER,
        "--password-env",
        "NEW_USER_PASSWORD",
        stdout=io.StringIO(),
    )
    [created] = created_records()
    assert created.user is None
    assert created.username == getpass.getuser()
    assert created.detail == {
        "change": "created",
        "members": ["dora"],
        "is_superuser": False,
        "is_staff": True,
        "is_active": True,
        "via": "manage.py create_user",
    }


def test_a_save_of_named_fields_compares_only_those(django_user_model, bob):
    AuthToken.objects.create(bob)
    bob.set_password("never-saved-1234")  # changed here, but not written below
    bob.is_staff = False
    bob.save(update_fields=["is_staff"])
    [changed] = records(Action.ACCOUNT)
    assert changed.detail == {
        "change": "changed",
        "members": ["bob"],
        "is_staff": {"old": True, "new": False},
    }
    assert token_count(bob) == 1
    assert django_user_model.objects.get(pk=bob.pk).check_password("bob-pw-1234")


def test_a_renamed_account_is_recorded_under_its_new_name(bob):
    bob.username = "robert"
    bob.save()
    [renamed] = records(Action.ACCOUNT)
    assert renamed.detail == {
        "change": "changed",
        "members": ["robert"],
        "username": {"old": "bob", "new": "robert"},
    }


@pytest.mark.django_db(transaction=True)
def test_manage_py_records_what_any_command_does_under_the_operating_system_user(tmp_path):
    """``createsuperuser`` is Django's, not ours: manage.py itself names the command."""
    database = ProcessDatabase.of_test_database(tmp_path)
    completed = manage(
        database,
        "createsuperuser",
        "--noinput",
        "--username",
        "root",
        "--email",
        "root@example.com",
        DJANGO_SUPERUSER_PASSWORD="Root-pw-97531",
    )
    assert completed.returncode == 0, completed.stderr
    where = "FROM logs_accessrecord WHERE action = 'account'"
    assert database.scalar(f"SELECT COUNT(*) {where}") == 1
    assert database.scalar(f"SELECT username {where}") == getpass.getuser()
    assert database.scalar(f"SELECT user_id {where}") is None
    detail = database.scalar(f"SELECT detail {where}")
    assert (json.loads(detail) if isinstance(detail, str) else detail) == {
        "change": "created",
        "members": ["root"],
        "is_superuser": True,
        "is_staff": True,
        "is_active": True,
        "via": "manage.py createsuperuser",
    }
