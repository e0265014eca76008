"""The retention policy page: for Compliance Administrators only, with what a run would purge."""

import html
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import override_settings

from tests.factories import AuditEventFactory, CategoryFactory
from tests.retention.support import store_events
from tests.support import CHANGELIST, listed

PAGE = "/admin/logs/auditevent/retention/"


@pytest.fixture
def compliance_client(client, django_user_model):
    user = django_user_model.objects.create_user("compliance", password="pw-c-123", is_staff=True)
    user.groups.add(Group.objects.get(name="Compliance Administrator"))
    client.force_login(user)
    return client


@pytest.mark.django_db
@override_settings(
    AUDITPORTAL_RETENTION_DAYS="365", AUDITPORTAL_RETENTION_OVERRIDES="GroupManagement=730"
)
def test_shows_the_policy_and_what_a_run_would_purge(compliance_client):
    store_events(400, 500, 10, category="UserManagement")
    store_events(400, category="GroupManagement")

    response = compliance_client.get(PAGE)

    assert response.status_code == 200
    rows = {row["category"]: row for row in response.context_data["rows"]}
    assert rows["UserManagement"]["days"] == 365
    assert rows["UserManagement"]["events"] == 2
    assert rows["GroupManagement"]["days"] == 730
    assert rows["GroupManagement"]["overridden"]
    assert rows["GroupManagement"]["events"] == 0
    assert response.context_data["total"] == 2
    assert 'id="would-purge">2<' in response.content.decode()


@pytest.mark.django_db
def test_the_changelist_links_it_for_compliance_administrators(compliance_client):
    assert 'id="retention-link"' in compliance_client.get(CHANGELIST).content.decode()


@pytest.mark.django_db
def test_others_neither_see_nor_open_it(reader_client):
    response = reader_client.get(PAGE)
    assert response.status_code == 403
    assert "<strong>Compliance Administrator</strong> (permission" in response.content.decode()
    assert 'id="retention-link"' not in reader_client.get(CHANGELIST).content.decode()


@pytest.mark.django_db
def test_exporters_may_not_open_it(client, django_user_model):
    user = django_user_model.objects.create_user("exporter", password="pw-e-123", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_auditevent", "export_auditevent"])
    )
    client.force_login(user)
    assert client.get(PAGE).status_code == 403


@pytest.mark.django_db
@override_settings(
    AUDITPORTAL_RETENTION_DAYS="365", AUDITPORTAL_RETENTION_OVERRIDES="GroupManagement=30"
)
def test_each_count_opens_exactly_the_events_a_run_would_purge(compliance_client, monkeypatch):
    now = datetime(2026, 12, 5, 19, 13, 7, 250_000, tzinfo=UTC)
    monkeypatch.setattr("logs.admin.retention.timezone.now", lambda: now)
    users, groups = CategoryFactory(name="UserManagement"), CategoryFactory(name="GroupManagement")
    expired = set()
    for category, days in [(users, 365), (groups, 30)]:
        cutoff = now - timedelta(days=days)
        # A microsecond before the cutoff is purged; the cutoff itself is kept.
        for moment, purged in [
            (cutoff - timedelta(days=3), True),
            (cutoff - timedelta(microseconds=1), True),
            (cutoff, False),
            (cutoff + timedelta(days=1), False),
        ]:
            event = AuditEventFactory(category=category, activity_datetime=moment)
            if purged:
                expired.add(event.pk)

    response = compliance_client.get(PAGE)
    rows = {row["category"]: row for row in response.context_data["rows"]}
    page = response.content.decode()
    shown = set()
    for name in ["UserManagement", "GroupManagement"]:
        url = rows[name]["changelist_url"]
        assert f'href="{html.escape(url)}">2</a>' in page
        listed_ids = {event.pk for event in listed(compliance_client.get(url))}
        assert len(listed_ids) == rows[name]["events"] == 2
        shown |= listed_ids
    assert shown == expired
    # With an override no single filter selects the total; its categories' links do.
    assert response.context_data["total_changelist_url"] is None


@pytest.mark.django_db
@override_settings(AUDITPORTAL_RETENTION_DAYS="365", AUDITPORTAL_RETENTION_OVERRIDES="")
def test_without_overrides_the_total_opens_its_events(compliance_client):
    store_events(400, 500, 10, category="UserManagement")
    store_events(401, category="GroupManagement")
    response = compliance_client.get(PAGE)
    url = response.context_data["total_changelist_url"]
    assert f'id="would-purge" href="{html.escape(url)}">3</a>' in response.content.decode()
    assert len(listed(compliance_client.get(url))) == 3
