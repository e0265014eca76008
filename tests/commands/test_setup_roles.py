"""setup_roles: the four role groups exist after migrate, and the command puts them back."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from logs.roles import ROLE_PERMISSIONS

pytestmark = pytest.mark.django_db


def _held(role):
    group = Group.objects.get(name=role)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}


def test_migration_creates_every_role_with_exactly_its_permissions():
    for role, permissions in ROLE_PERMISSIONS.items():
        assert _held(role) == set(permissions), role


def test_no_role_may_change_or_delete_an_audit_event():
    for role in ROLE_PERMISSIONS:
        assert not {"logs.change_auditevent", "logs.delete_auditevent"} & _held(role)


def test_setup_roles_is_idempotent_and_says_nothing_changed():
    out = StringIO()
    call_command("setup_roles", stdout=out)
    assert out.getvalue().strip() == "4 roles checked, 0 changed."


def test_setup_roles_restores_a_hand_edited_group_and_reports_it():
    reader = Group.objects.get(name="Audit Reader")
    reader.permissions.add(Permission.objects.get(codename="export_auditevent"))
    reader.permissions.remove(Permission.objects.get(codename="view_target"))
    Group.objects.filter(name="Ingestion Service").delete()

    out = StringIO()
    call_command("setup_roles", stdout=out)

    lines = out.getvalue().splitlines()
    assert "Audit Reader: granted logs.view_target" in lines
    assert "Audit Reader: withdrew logs.export_auditevent" in lines
    assert "Ingestion Service: created" in lines
    assert "Ingestion Service: granted logs.ingest_auditevent" in lines
    assert lines[-1] == "4 roles checked, 2 changed."
    assert _held("Audit Reader") == set(ROLE_PERMISSIONS["Audit Reader"])
