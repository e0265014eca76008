"""Each filter, through the API, selects exactly the expected sample events.

The sample file (six events of 2 November 2026 in the portal's JSON) gives every filter rows to
keep and rows to drop; the expectations are read off that file.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from logs.filters import AuditEventFilterSet
from logs.models import Annotation, AuditEvent
from tests.factories import AuditEventFactory
from tests.support import EVENTS_URL, SIX_ACTIVITIES_NEWEST_FIRST, activities

pytestmark = pytest.mark.django_db

ZOE_UPN = "zoe.angstrom@contoso.example"
VENTES_GROUP_ID = "f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9"


def listed(api, **params) -> list[str]:
    return activities(api.get(EVENTS_URL, params))


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"since": "2026-11-02T13:45:12.987654Z"},
            ["Update policy", "Add owner to group", "Update application"],
        ),
        ({"until": "2026-11-02T09:30:45Z"}, ["Update user"]),
        (
            {"since": "2026-11-02T09:00:00+01:00", "until": "2026-11-02T11:05:00"},
            ["Reset password (self-service)", "Update group", "Update user"],
        ),
        ({"service": "Self-service Password Management"}, ["Reset password (self-service)"]),
        ({"category": "GroupManagement"}, ["Add owner to group", "Update group"]),
        ({"activity": "Update application"}, ["Update application"]),
        ({"result": "failure"}, ["Reset password (self-service)"]),
        (
            {"result": "success"},
            [a for a in SIX_ACTIVITIES_NEWEST_FIRST if a != "Reset password (self-service)"],
        ),
        ({"operation_type": "Assign"}, ["Add owner to group"]),
        ({"initiator": ZOE_UPN}, ["Add owner to group", "Update application", "Update user"]),
        (
            {"initiator": "ZOE.Angstrom@Contoso.example"},
            ["Add owner to group", "Update application", "Update user"],
        ),
        (
            {"initiator": "Zoë Ångström"},
            ["Add owner to group", "Update application", "Update user"],
        ),
        ({"initiator": "Microsoft Substrate Management"}, ["Update group"]),
        ({"initiator": "98db8bd6-0cc0-4e67-9de5-f187f1cd1b41"}, ["Update group"]),
        ({"target": "Ventes Région Île-de-France"}, ["Add owner to group", "Update group"]),
        ({"target": VENTES_GROUP_ID}, ["Add owner to group", "Update group"]),
        ({"target": "lukasz.muller@contoso.example"}, ["Add owner to group", "Update user"]),
        ({"target_type": "Application"}, ["Update application"]),
        ({"target_type": "Group"}, ["Add owner to group", "Update group"]),
        (
            {"correlation_id": "0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d"},
            ["Reset password (self-service)"],
        ),
        ({"search": "password"}, ["Reset password (self-service)"]),
        ({"search": "taro"}, ["Reset password (self-service)"]),
        ({"search": "Payroll Connector"}, ["Update application"]),
        ({"search": "2b4d6f8a-0c1e-4a3b-9d5f-7a9c1e3b5d70"}, ["Update application"]),
        ({"ordering": "date"}, list(reversed(SIX_ACTIVITIES_NEWEST_FIRST))),
        ({"ordering": "-date"}, SIX_ACTIVITIES_NEWEST_FIRST),
    ],
    ids=lambda value: (
        "&".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else None
    ),
)
def test_filter_selects_exactly(api, six_events, params, expected):
    assert listed(api, **params) == expected


def test_filter_on_the_activity_id(api, six_events):
    stored = AuditEvent.objects.get(activity__name="Update group")
    assert listed(api, search=stored.entra_id) == ["Update group"]


def test_a_search_finds_the_text_as_a_correlation_id_and_as_an_activity_id(api):
    """Both exact ids are looked up in one query: an event holding the text as its correlation
    id and another holding it as its activity id are both found, and no other."""
    text = "Directory_9c1e3b5d-2b4d-4a3b-9d5f-7a9c1e3b5d70_ABCDE_12345678"
    by_correlation = AuditEventFactory(correlation_id=text)
    by_id = AuditEventFactory(entra_id=text)
    AuditEventFactory()
    response = api.get(EVENTS_URL, {"search": text})
    assert response.status_code == 200
    assert sorted(row["id"] for row in response.json()["results"]) == sorted(
        [by_correlation.pk, by_id.pk]
    )


def test_informational_true_and_false(api, six_events):
    Annotation.objects.create(
        event=AuditEvent.objects.get(activity__name="Update group"),
        kind=Annotation.Kind.INFORMATIONAL,
        text="Microsoft Substrate Management write-back",
        source="annotate_substrate",
    )
    assert listed(api, informational="true") == ["Update group"]
    assert listed(api, informational="false") == [
        a for a in SIX_ACTIVITIES_NEWEST_FIRST if a != "Update group"
    ]


def test_period_counts_back_from_now(api, db):
    now = timezone.now()
    for name, age in [("hour", 1), ("two days", 48), ("two weeks", 14 * 24), ("old", 60 * 24)]:
        AuditEventFactory(activity__name=name, activity_datetime=now - timedelta(hours=age))
    assert listed(api, period="24h") == ["hour"]
    assert listed(api, period="7d") == ["hour", "two days"]
    assert listed(api, period="30d") == ["hour", "two days", "two weeks"]


def test_combined_filters_are_all_applied(api, six_events):
    assert listed(api, initiator=ZOE_UPN, category="GroupManagement") == ["Add owner to group"]
    assert listed(api, target_type="Group", operation_type="Update") == ["Update group"]
    assert listed(
        api,
        service="Core Directory",
        result="success",
        until="2026-11-02T12:00:00Z",
        ordering="date",
    ) == ["Update user", "Update group"]
    assert listed(api, initiator=ZOE_UPN, target_type="Group", since="2026-11-02T16:00:00Z") == []


def test_empty_value_means_no_filter(api, six_events):
    assert listed(api, service="", search="") == SIX_ACTIVITIES_NEWEST_FIRST


@pytest.mark.parametrize(
    "params",
    [
        {"initiator": ZOE_UPN, "category": "GroupManagement"},
        {"target": VENTES_GROUP_ID, "ordering": "date"},
        {"search": "group", "result": "success"},
    ],
)
def test_same_rows_as_the_filterset_itself(api, six_events, params):
    """The admin and the export use the FilterSet directly; the API must give the same rows."""
    filterset = AuditEventFilterSet(params, queryset=AuditEvent.objects.all())
    assert filterset.is_valid()
    assert listed(api, **params) == [event.activity.name for event in filterset.qs]


ZOE_EVENTS = ["Add owner to group", "Update application", "Update user"]
SUBSTRATE_APP_ID = "98db8bd6-0cc0-4e67-9de5-f187f1cd1b41"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        # Strictly after / before: the event at exactly that moment is left out.
        ({"after": "2026-11-02T13:45:12.987654Z"}, ["Update policy", "Add owner to group"]),
        ({"before": "2026-11-02T09:30:45.500000Z"}, ["Update user"]),
        (
            {"after": "2026-11-02T11:05:00Z", "before": "2026-11-02T15:00:30.25Z"},
            ["Update application"],
        ),
        ({"activity_name": "update GROUP"}, ["Update group"]),
        ({"activity_name": "Update"}, []),  # the whole name, not a part
        ({"activity_name": "No such activity"}, []),  # selects nothing, is not refused
        (
            {"activity_name_startswith": "update"},
            ["Update policy", "Update application", "Update group", "Update user"],
        ),
        ({"activity_name_startswith": "Reset pass"}, ["Reset password (self-service)"]),
        ({"service_name": "self-service password management"}, ["Reset password (self-service)"]),
        ({"category_name": "groupmanagement"}, ["Add owner to group", "Update group"]),
        ({"initiator_user_id": "3b8c5f2e-7d41-4c7a-9f0e-2a6d9c1b4e57"}, ZOE_EVENTS),
        ({"initiator_user_id": "3B8C5F2E-7D41-4C7A-9F0E-2A6D9C1B4E57"}, []),  # ids: exact
        ({"initiator_user_name": "Zoë Ångström"}, ZOE_EVENTS),
        ({"initiator_user_name": "山田 太郎"}, ["Reset password (self-service)"]),
        ({"initiator_user_name": "Microsoft Substrate Management"}, []),  # an app's name
        ({"initiator_upn": "ZOE.ANGSTROM@contoso.example"}, ZOE_EVENTS),
        ({"initiator_upn": "zoe.angstrom"}, []),
        ({"initiator_upn_startswith": "Zoe.A"}, ZOE_EVENTS),
        ({"initiator_upn_startswith": "taro"}, ["Reset password (self-service)"]),
        ({"initiator_upn_startswith": "contoso"}, []),  # the start, not a part
        ({"initiator_app_id": SUBSTRATE_APP_ID}, ["Update group"]),
        ({"initiator_app_name": "microsoft substrate management"}, ["Update group"]),
        ({"initiator_app_name": "Zoë Ångström"}, []),  # a user's name
        ({"target_id": VENTES_GROUP_ID}, ["Add owner to group", "Update group"]),
        ({"target_id": "lukasz.muller@contoso.example"}, []),  # a UPN, not an id
        ({"target_name": "payroll connector"}, ["Update application"]),
        ({"target_name": "Payroll"}, []),
        ({"target_name": "lukasz.muller@contoso.example"}, []),  # a UPN, not a name
        ({"target_name_startswith": "ventes"}, ["Add owner to group", "Update group"]),
        ({"target_name_startswith": "Default token"}, ["Update policy"]),
        ({"activity_id": "No such id"}, []),
    ],
    ids=lambda value: (
        "&".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else None
    ),
)
def test_precise_filter_selects_exactly(api, six_events, params, expected):
    assert listed(api, **params) == expected


def test_precise_filter_on_the_activity_id(api, six_events):
    stored = AuditEvent.objects.get(activity__name="Update group")
    assert listed(api, activity_id=stored.entra_id) == ["Update group"]
    assert listed(api, activity_id=stored.entra_id.upper()) == []


def test_the_precise_filters_are_the_filtersets_last(db):
    from logs.filters import PRECISE_FILTERS

    assert list(AuditEventFilterSet.base_filters)[-len(PRECISE_FILTERS) :] == list(PRECISE_FILTERS)
