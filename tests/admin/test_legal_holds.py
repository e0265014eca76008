"""Legal holds in the admin: Compliance Administrators place and release them through forms
that add rows; readers see them; nobody edits or deletes one. The retention page counts
what each hold keeps."""

import pytest
from django.contrib.auth.models import Group

from logs.models import AccessRecord, AuditEvent, LegalHold, LegalHoldRelease
from logs.retention.holds import place_hold
from tests.retention.support import store_events

pytestmark = pytest.mark.django_db

HOLDS = "/admin/logs/legalhold/"
RETENTION = "/admin/logs/auditevent/retention/"


@pytest.fixture
def compliance(client, django_user_model):
    user = django_user_model.objects.create_user("compliance", password="pw-c-123", is_staff=True)
    user.groups.add(Group.objects.get(name="Compliance Administrator"))
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def reader(client, django_user_model):
    user = django_user_model.objects.create_user("reader", password="pw-r-123", is_staff=True)
    user.groups.add(Group.objects.get(name="Audit Reader"))
    client.force_login(user)
    return client


def a_hold(name="Matter", **filters) -> LegalHold:
    return place_hold(name, reason="court order", filters=filters or {"correlation_id": "c1"})


def test_a_compliance_administrator_places_a_hold_with_the_shared_filters(compliance):
    store_events(400, category="UserManagement")
    response = compliance.post(
        HOLDS + "add/",
        {"name": "Audit 2024", "reason": "External audit", "category": "UserManagement"},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    hold = LegalHold.objects.get()
    assert (hold.name, hold.reason, hold.placed_by) == (
        "Audit 2024",
        "External audit",
        "compliance",
    )
    assert hold.filters == {"category": "UserManagement"}
    record = AccessRecord.objects.get(action=AccessRecord.Action.LEGAL_HOLD)
    assert record.user == compliance.user
    assert record.detail["change"] == "placed"
    assert record.row_count == 1


def test_the_form_and_the_command_store_the_same_hold(compliance):
    from django.core.management import call_command

    call_command(
        "legal_hold", "add", "By command", "--reason", "r", "--result", "failure",
        "--since", "2020-01-01T00:00:00Z", stdout=None,
    )  # fmt: skip
    compliance.post(
        HOLDS + "add/",
        {"name": "By form", "reason": "r", "result": "failure", "since": "2020-01-01T00:00:00Z"},
    )
    by_command, by_form = (LegalHold.objects.get(name=n) for n in ("By command", "By form"))
    assert by_form.filters == by_command.filters
    assert by_form.event_ids == by_command.event_ids == []


def test_activity_ids_one_a_line(compliance):
    ids = store_events(400, 401)
    response = compliance.post(
        HOLDS + "add/", {"name": "Ids", "reason": "r", "event_ids": f"{ids[0]}\r\n\r\n{ids[1]}\n"}
    )
    assert response.status_code == 302
    assert LegalHold.objects.get().event_ids == ids


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, None, "A hold needs at least one filter"),
        ({"since": "yesterday"}, "since", "Enter a valid date/time"),
        ({"correlation_id": "c", "event_ids": "x"}, "event_ids", "not both"),
        ({"correlation_id": "c", "reason": " "}, "reason", "needs a reason"),
    ],
)
def test_refusals_are_shown_on_the_form_and_store_nothing(compliance, data, field, message):
    response = compliance.post(HOLDS + "add/", {"name": "Bad", "reason": "r", **data})
    assert response.status_code == 200
    form = response.context["adminform"].form
    errors = form.errors.get(field or "__all__", [])
    assert any(message in error for error in errors), form.errors
    assert not LegalHold.objects.exists()
    assert not AccessRecord.objects.filter(action=AccessRecord.Action.LEGAL_HOLD).exists()


def test_a_compliance_administrator_releases_a_hold_with_a_reason(compliance):
    hold = a_hold()
    page = compliance.get(f"{HOLDS}{hold.pk}/change/")
    assert 'id="release-hold"' in page.content.decode()

    refused = compliance.post(f"{HOLDS}{hold.pk}/release/", {"reason": ""})
    assert refused.status_code == 200
    assert not LegalHoldRelease.objects.exists()

    response = compliance.post(f"{HOLDS}{hold.pk}/release/", {"reason": "Matter settled"})
    assert response.status_code == 302
    release = LegalHoldRelease.objects.get()
    assert (release.hold, release.reason, release.released_by) == (
        hold,
        "Matter settled",
        "compliance",
    )
    record = AccessRecord.objects.filter(action=AccessRecord.Action.LEGAL_HOLD).latest("id")
    assert record.detail == {"change": "released", "hold": "Matter", "reason": "Matter settled"}
    assert record.user == compliance.user
    # Released once: the page no longer offers it, and a second release changes nothing.
    assert 'id="release-hold"' not in compliance.get(f"{HOLDS}{hold.pk}/change/").content.decode()
    compliance.post(f"{HOLDS}{hold.pk}/release/", {"reason": "again"})
    assert LegalHoldRelease.objects.count() == 1


def test_readers_see_holds_but_place_and_release_none(reader):
    hold = a_hold()
    assert reader.get(HOLDS).status_code == 200
    page = reader.get(f"{HOLDS}{hold.pk}/change/")
    assert page.status_code == 200
    assert "court order" in page.content.decode()
    assert 'id="release-hold"' not in page.content.decode()
    assert reader.get(HOLDS + "add/").status_code == 403
    reader.post(HOLDS + "add/", {"name": "Mine", "reason": "r", "correlation_id": "x"})
    assert reader.post(f"{HOLDS}{hold.pk}/release/", {"reason": "r"}).status_code == 403
    assert LegalHold.objects.count() == 1
    assert not LegalHoldRelease.objects.exists()


def test_nobody_edits_or_deletes_a_hold(admin_client):
    hold = a_hold()
    admin_client.post(f"{HOLDS}{hold.pk}/change/", {"name": "Renamed", "reason": "changed"})
    assert admin_client.post(f"{HOLDS}{hold.pk}/delete/", {"post": "yes"}).status_code == 403
    stored = LegalHold.objects.get()
    assert (stored.name, stored.reason) == ("Matter", "court order")


def test_the_retention_page_counts_what_each_hold_keeps(compliance):
    ids = store_events(400, 401, 402, 5)
    place_hold("Two", reason="r", event_ids=ids[:2])
    place_hold("One", reason="r", event_ids=ids[1:2])

    response = compliance.get(RETENTION)

    assert response.context_data["total"] == 1  # three expired, two held
    kept = {row["hold"].name: row["kept"] for row in response.context_data["holds"]}
    assert kept == {"Two": 2, "One": 1}
    assert response.context_data["held_total"] == 2
    assert 'id="held-total">2<' in response.content.decode()
    assert AuditEvent.objects.count() == 4


def test_a_holds_page_links_to_exactly_the_events_it_covers(compliance):
    store_events(400, 401, category="UserManagement")
    store_events(402, category="GroupManagement")
    hold = place_hold("Users", reason="r", filters={"category": "UserManagement"})
    page = compliance.get(f"{HOLDS}{hold.pk}/change/").content.decode()
    link = "/admin/logs/auditevent/?category=UserManagement"
    assert f'2 (<a href="{link}">show them</a>)' in page
    shown = compliance.get(link).context_data["cl"].result_list
    assert {event.entra_id for event in shown} == set(
        AuditEvent.objects.filter(category__name="UserManagement").values_list(
            "entra_id", flat=True
        )
    )
