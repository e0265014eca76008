"""The event list and detail: order, the fields of each, and what the detail adds."""

import json

import pytest

from logs.models import Annotation, AuditEvent
from tests.factories import AuditEventFactory, ModifiedPropertyFactory, TargetFactory
from tests.support import EVENTS_URL, SIX_ACTIVITIES_NEWEST_FIRST, activities

pytestmark = pytest.mark.django_db


def event_named(activity: str) -> AuditEvent:
    return AuditEvent.objects.get(activity__name=activity)


def test_list_is_newest_first(api, six_events):
    assert activities(api.get(EVENTS_URL)) == SIX_ACTIVITIES_NEWEST_FIRST


def test_list_fields_of_a_user_initiated_event(api, six_events):
    results = api.get(EVENTS_URL).json()["results"]
    [event] = [row for row in results if row["activity"] == "Update user"]
    stored = event_named("Update user")
    assert event == {
        "id": stored.pk,
        "activity_id": stored.entra_id,
        "activity_datetime": "2026-11-02T08:14:03.123456Z",
        "service": "Core Directory",
        "category": "UserManagement",
        "activity": "Update user",
        "operation_type": "Update",
        "result": "success",
        "result_reason": "",
        "correlation_id": "5f0b7a3e-2c4d-4b8e-9a61-0d7e3c2b1a90",
        "initiated_by": {
            "type": "user",
            "display_name": "Zoë Ångström",
            "user_principal_name": "zoe.angstrom@contoso.example",
            "user_object_id": "3b8c5f2e-7d41-4c7a-9f0e-2a6d9c1b4e57",
            "user_type": "",
            "home_tenant_id": "",
            "home_tenant_name": "",
            "app_id": "",
            "app_display_name": "",
            "service_principal_id": "",
            "service_principal_name": "",
            "ip_address": "203.0.113.24",
            "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edge/130.0",
        },
        "targets": [
            {
                "type": "User",
                "object_id": "c2a4e6f8-1b3d-4f5a-8c7e-9d0b2a4c6e81",
                "display_name": "Łukasz Müller",
                "user_principal_name": "lukasz.muller@contoso.example",
                "group_type": "",
            }
        ],
        "informational": False,
        "links": {"self": f"http://testserver/api/v1/events/{stored.pk}/"},
    }


def test_list_leaves_out_modified_properties_and_original(api, six_events):
    [event, *_] = api.get(EVENTS_URL).json()["results"]
    assert "original" not in event
    assert all("modified_properties" not in target for target in event["targets"])


def test_app_initiator_and_missing_initiator(api, six_events):
    results = {row["activity"]: row for row in api.get(EVENTS_URL).json()["results"]}
    app = results["Update group"]["initiated_by"]
    assert (app["type"], app["display_name"], app["app_id"]) == (
        "app",
        "Microsoft Substrate Management",
        "98db8bd6-0cc0-4e67-9de5-f187f1cd1b41",
    )
    assert results["Update policy"]["initiated_by"] is None


def test_targets_keep_the_source_order(api, six_events):
    results = {row["activity"]: row for row in api.get(EVENTS_URL).json()["results"]}
    targets = results["Add owner to group"]["targets"]
    assert [(t["type"], t["display_name"]) for t in targets] == [
        ("User", ""),
        ("Group", "Ventes Région Île-de-France"),
        ("User", "Zoë Ångström"),
    ]


def test_informational_flag_follows_annotations(api, six_events):
    Annotation.objects.create(
        event=event_named("Update group"),
        kind=Annotation.Kind.INFORMATIONAL,
        text="Microsoft Substrate Management write-back",
        source="annotate_substrate",
    )
    # A second one on the same event: the flag is one value however many there are.
    Annotation.objects.create(
        event=event_named("Update group"),
        kind=Annotation.Kind.INFORMATIONAL,
        text="Marked by hand",
        source="portal",
    )
    Annotation.objects.create(
        event=event_named("Update user"), kind=Annotation.Kind.NOTE, text="seen", source="portal"
    )
    results = {row["activity"]: row for row in api.get(EVENTS_URL).json()["results"]}
    assert [name for name, row in results.items() if row["informational"]] == ["Update group"]


def test_detail_has_modified_properties_annotations_and_original(api, six_events):
    stored = event_named("Update user")
    Annotation.objects.create(
        event=stored, kind=Annotation.Kind.NOTE, text="Checked with HR", source="portal"
    )
    response = api.get(f"{EVENTS_URL}{stored.pk}/")
    assert response.status_code == 200
    event = response.json()
    [target] = event["targets"]
    assert len(target["modified_properties"]) == 25
    assert target["modified_properties"][0] == {
        "name": "ExtensionAttribute1",
        "old_value": "[]",
        "new_value": '["value 1"]',
    }
    assert event["additional_details"][0] == {"key": "UserType", "value": "Member"}
    [annotation] = event["annotations"]
    assert (annotation["kind"], annotation["text"], annotation["source"]) == (
        "note",
        "Checked with HR",
        "portal",
    )
    assert annotation["created_at"]
    assert event["source_format"] == "portal-json"
    assert event["original"] == json.loads(stored.original)
    assert event["original"]["activityDateTime"] == "2026-11-02T08:14:03.1234567Z"
    assert event["links"]["self"].endswith(f"/api/v1/events/{stored.pk}/")


def test_detail_keeps_null_apart_from_empty_values(api, db):
    prop = ModifiedPropertyFactory(old_value=None, new_value="")
    response = api.get(f"{EVENTS_URL}{prop.target.event.pk}/")
    [target] = response.json()["targets"]
    assert target["modified_properties"] == [
        {"name": "DisplayName", "old_value": None, "new_value": ""}
    ]


def test_detail_of_an_unknown_event_is_404(api, db):
    assert api.get(f"{EVENTS_URL}999999/").status_code == 404
    assert api.get(f"{EVENTS_URL}not-a-number/").status_code == 404


def test_detail_with_several_targets_in_order(api, db):
    event = AuditEventFactory()
    for position, name in enumerate(["first", "second"]):
        TargetFactory(event=event, position=position, display_name=name)
    targets = api.get(f"{EVENTS_URL}{event.pk}/").json()["targets"]
    assert [t["display_name"] for t in targets] == ["first", "second"]
