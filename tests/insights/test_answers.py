"""Each compliance question answered on imported real-format samples (expected values read off
the raw files) and on generated data with known answers."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from logs.ingest.importer import import_file
from logs.insights.answers import Period
from logs.insights.builder import compliance_report
from logs.models import Annotation
from tests.factories import (
    ActivityFactory,
    AuditEventFactory,
    CategoryFactory,
    ModifiedPropertyFactory,
    ServiceFactory,
    TargetFactory,
)
from tests.support import FIXTURES_DIR, query_plan

pytestmark = pytest.mark.django_db

FIXTURE_DAY = Period(datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC))
SIX_RECORD_FILES = [
    "portal-json/AuditLogs_2026-11-02.json",
    "portal-csv/AuditLogs_2026-11-02.csv",
    "azure-monitor/eventhub-message.json",
    "log-analytics/AuditLogs-query-api-response.json",
]


def raw_records():
    return json.loads((FIXTURES_DIR / SIX_RECORD_FILES[0]).read_text(encoding="utf-8-sig"))


def test_expected_values_match_the_raw_file():
    """The expectations below, read off the raw portal-JSON file (the other formats carry the
    same six events): all on 2026-11-02, five successes and one failure."""
    records = raw_records()
    by_activity = {r["activityDisplayName"]: r for r in records}
    assert [r["result"] for r in records].count("failure") == 1
    # Users: "Update user" (success) on Łukasz Müller is the one user change; "Reset password
    # (self-service)" failed, so no password was changed and one attempt failed.
    assert by_activity["Update user"]["result"] == "success"
    assert by_activity["Reset password (self-service)"]["result"] == "failure"
    # Groups: no "Add group"; one "Add owner to group": owner c2a4e6f8-... (first target),
    # group "Ventes Région Île-de-France" (Group.DisplayName); no licence activity.
    owner = by_activity["Add owner to group"]["targetResources"][0]
    assert owner["id"] == "c2a4e6f8-1b3d-4f5a-8c7e-9d0b2a4c6e81"
    props = {p["displayName"]: p["newValue"] for p in owner["modifiedProperties"]}
    assert json.loads(props["Group.DisplayName"]) == "Ventes Région Île-de-France"
    assert not {"Add group", "Change user license", "Set group license"} & set(by_activity)
    # Applications: "Update application" renames Payroll Sync → Payroll Connector.
    [app] = by_activity["Update application"]["targetResources"]
    names = {p["displayName"]: (p["oldValue"], p["newValue"]) for p in app["modifiedProperties"]}
    assert names["DisplayName"] == ('["Payroll Sync"]', '["Payroll Connector"]')
    # "Update group" is the Substrate write-back (informational).
    assert by_activity["Update group"]["initiatedBy"]["app"]["displayName"] == (
        "Microsoft Substrate Management"
    )


# The portal CSV and an id-bearing format carry the same six events: imported together, in
# either order, each event is counted once (the CSV copy is marked a duplicate).
SAMPLE_IMPORTS = [[path] for path in SIX_RECORD_FILES] + [
    ["portal-json/AuditLogs_2026-11-02.json", "portal-csv/AuditLogs_2026-11-02.csv"],
    ["portal-csv/AuditLogs_2026-11-02.csv", "log-analytics/AuditLogs-query-api-response.json"],
]


@pytest.mark.parametrize("paths", SAMPLE_IMPORTS, ids=lambda paths: "+".join(paths))
def test_every_answer_on_the_imported_samples(paths):
    for path in paths:
        assert import_file(FIXTURES_DIR / path).ok
    report = compliance_report(FIXTURE_DAY)
    assert report.totals == {"events": 6, "failures": 1}
    users, groups, apps = report.users, report.groups, report.applications
    assert users["changes"].count == 1
    assert [(r["activity"], r["count"]) for r in users["changes"].by_activity] == [
        ("Update user", 1)
    ]
    assert users["distinct_users"].count == 1
    assert users["password_changes"].count == 0
    assert users["password_changes"].extra["failed"]["count"] == 1
    assert groups["groups_added"].count == 0
    assert groups["licences"].count == 0
    [owner_change] = groups["owner_changes"].items
    assert (owner_change["change"], owner_change["group"], owner_change["owner_id"]) == (
        "added",
        "Ventes Région Île-de-France",
        "c2a4e6f8-1b3d-4f5a-8c7e-9d0b2a4c6e81",
    )
    assert apps["applications"].count == 1
    assert [(i["name"], i["changes"]) for i in apps["applications"].items] == [
        ("Payroll Connector", {"updated": 1})
    ]
    assert apps["service_principals"].count == 0
    [rename] = apps["renames"].items
    assert (rename["old_name"], rename["new_name"]) == ("Payroll Sync", "Payroll Connector")
    assert apps["renames"].count == 1


def test_the_period_and_informational_exclusion():
    import_file(FIXTURES_DIR / SIX_RECORD_FILES[0])
    before = Period(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
    assert compliance_report(before).totals["events"] == 0
    # Until 13:00 leaves out the rename (13:45) and the owner change (15:00).
    morning = Period(FIXTURE_DAY.since, datetime(2026, 11, 2, 13, tzinfo=UTC))
    report = compliance_report(morning)
    assert report.totals["events"] == 3
    assert report.applications["renames"].count == 0
    excluded = Period(FIXTURE_DAY.since, FIXTURE_DAY.until, exclude_informational=True)
    assert compliance_report(excluded).totals["events"] == 5  # without "Update group"
    sspr = Period(FIXTURE_DAY.since, FIXTURE_DAY.until, service="Self-service Password Management")
    report = compliance_report(sspr)
    assert report.totals["events"] == 1
    assert report.users["password_changes"].extra["failed"]["count"] == 1
    assert report.users["changes"].count == 0


# -- generated data with known answers ---------------------------------------------------------

START = datetime(2024, 11, 1, tzinfo=UTC)
PERIOD = Period(START, START + timedelta(days=30))


def event(activity, *, days=1, result="success", category="UserManagement", **kwargs):
    return AuditEventFactory(
        activity=ActivityFactory(name=activity),
        category=CategoryFactory(name=category),
        activity_datetime=START + timedelta(days=days),
        result=result,
        **kwargs,
    )


def target(event, type="User", object_id="user-1", name="Someone", position=0, **kwargs):
    return TargetFactory(
        event=event,
        type=type,
        object_id=object_id,
        display_name=name,
        position=position,
        **kwargs,
    )


@pytest.fixture
def known():
    """Known answers, spelled out in each line."""
    # Users: 3 "Update user" on 2 users, 1 "Add user" on a third, 1 failed "Update user".
    for object_id in ["u1", "u1", "u2"]:
        target(event("Update user"), object_id=object_id)
    target(event("Add user"), object_id="u3")
    target(event("Update user", result="failure"), object_id="u9")
    # Passwords: 2 admin resets (one on u1 again), 1 self-service change, 1 failed SSPR reset.
    sspr = ServiceFactory(name="Self-service Password Management")
    target(event("Reset password"), object_id="u1")
    target(event("Reset user password"), object_id="u4")
    target(event("Change password (self-service)", service=sspr), object_id="u5")
    target(event("Reset password (self-service)", service=sspr, result="failure"), object_id="u6")
    # Outside the period: counted nowhere.
    target(event("Update user", days=40), object_id="u7")
    target(event("Add group", days=-2, category="GroupManagement"), type="Group")
    # Groups: 2 added; owner added to Finance, owner removed from Legal.
    for name in ["Finance", "Legal"]:
        target(event("Add group", category="GroupManagement"), type="Group", name=name)
    for activity, group in [
        ("Add owner to group", "Finance"),
        ("Remove owner from group", "Legal"),
    ]:
        owner = target(event(activity, category="GroupManagement"), object_id=f"owner-{group}")
        ModifiedPropertyFactory(
            target=owner, name="Group.DisplayName", old_value=None, new_value=f'"{group}"'
        )
    # Licences: group gets E5; user gets E3 and loses EMS.
    licence = target(event("Set group license", category="GroupManagement"), type="Group")
    ModifiedPropertyFactory(
        target=licence,
        name="AssignedLicense",
        old_value="[]",
        new_value='["[SkuName=SPE_E5, AccountId=a, SkuId=b, DisabledPlans=[]]"]',
    )
    licence = target(event("Change user license"), object_id="u8")
    ModifiedPropertyFactory(
        target=licence,
        name="AssignedLicense",
        old_value='["[SkuName=EMS, AccountId=a, SkuId=c, DisabledPlans=[]]"]',
        new_value='["[SkuName=ENTERPRISEPACK, AccountId=a, SkuId=d, DisabledPlans=[]]"]',
    )
    # Applications: app-1 added then renamed, app-2 updated without a rename, app-3 deleted.
    apps = "ApplicationManagement"
    target(event("Add application", category=apps), type="Application", object_id="app-1")
    renamed = target(
        event("Update application", category=apps), type="Application", object_id="app-1"
    )
    ModifiedPropertyFactory(
        target=renamed, name="DisplayName", old_value='["Old CRM"]', new_value='["New CRM"]'
    )
    same = target(event("Update application", category=apps), type="Application", object_id="app-2")
    ModifiedPropertyFactory(
        target=same, name="DisplayName", old_value='["Same"]', new_value='["Same"]'
    )
    target(event("Delete application", category=apps), type="Application", object_id="app-3")
    # Service principals: sp-1 added and updated.
    for activity in ["Add service principal", "Update service principal"]:
        target(event(activity, category=apps), type="ServicePrincipal", object_id="sp-1")
    # One Update user annotated informational (excluded on request).
    informational = event("Update user")
    target(informational, object_id="u10")
    Annotation.objects.create(event=informational, kind="informational", text="test", source="test")


def test_user_answers(known):
    users = compliance_report(PERIOD).users
    assert {r["activity"]: r["count"] for r in users["changes"].by_activity} == {
        "Update user": 4,  # 3 + the informational one; the failure is not an applied change
        "Add user": 1,
        "Reset password": 1,
        "Reset user password": 1,
        "Change password (self-service)": 1,
        "Change user license": 1,
    }
    assert users["changes"].count == 9
    assert users["distinct_users"].count == 7  # u1, u2, u3, u4, u5, u8, u10
    assert users["password_changes"].count == 3
    assert users["password_changes"].extra["failed"]["count"] == 1


def test_group_answers(known):
    groups = compliance_report(PERIOD).groups
    assert groups["groups_added"].count == 2
    assert sorted(item["group"] for item in groups["groups_added"].items) == ["Finance", "Legal"]
    assert sorted(
        (i["group"], i["owner_id"], i["change"]) for i in groups["owner_changes"].items
    ) == [("Finance", "owner-Finance", "added"), ("Legal", "owner-Legal", "removed")]
    licences = groups["licences"]
    assert licences.count == 2
    assert {
        row["sku"]: (row["assigned"], row["removed"]) for row in licences.extra["licences"]
    } == {
        "SPE_E5": (1, 0),
        "ENTERPRISEPACK": (1, 0),
        "EMS": (0, 1),
    }
    assert {(i["target_type"], tuple(i["assigned"])) for i in licences.items} == {
        ("Group", ("SPE_E5",)),
        ("User", ("ENTERPRISEPACK",)),
    }


def test_application_answers(known):
    apps = compliance_report(PERIOD).applications
    assert apps["applications"].count == 4
    assert {i["object_id"]: i["changes"] for i in apps["applications"].items} == {
        "app-1": {"added": 1, "updated": 1},
        "app-2": {"updated": 1},
        "app-3": {"removed": 1},
    }
    assert apps["service_principals"].count == 2
    assert [(i["object_id"], i["total"]) for i in apps["service_principals"].items] == [("sp-1", 2)]
    assert [(i["application_id"], i["old_name"], i["new_name"]) for i in apps["renames"].items] == [
        ("app-1", "Old CRM", "New CRM")
    ]


def test_informational_events_can_be_excluded(known):
    period = Period(PERIOD.since, PERIOD.until, exclude_informational=True)
    users = compliance_report(period).users
    assert users["changes"].count == 8
    assert users["distinct_users"].count == 6
    assert "informational=false" in users["changes"].changelist_url


def test_a_service_narrows_every_answer(known):
    period = Period(PERIOD.since, PERIOD.until, service="Self-service Password Management")
    report = compliance_report(period)
    assert report.users["password_changes"].count == 1
    assert report.groups["groups_added"].count == 0
    assert "service=Self-service+Password+Management" in report.users["changes"].changelist_url


def test_charts_count_per_day_and_top_activities(known):
    charts = compliance_report(PERIOD).charts
    assert len(charts["events_per_day"]) == 31
    day_two = next(row for row in charts["events_per_day"] if row["day"] == "2024-11-02")
    # Every event in the period is on Nov 2: 5 user + 4 password + 6 group + 6 application
    # events + the informational one.
    assert day_two["total"] == 22
    assert sum(row["count"] for row in charts["failures_per_day"]) == 2
    assert charts["top_activities"][0] == {
        **charts["top_activities"][0],
        "activity": "Update user",
        "count": 5,  # 4 applied + 1 failed
    }


def test_every_link_opens_exactly_the_counted_events(known, api):
    report = compliance_report(PERIOD)
    for _, answers in report.sections():
        for key, answer in answers.items():
            if answer.api_url is None or key == "distinct_users":
                continue
            response = api.get(answer.api_url)
            assert response.status_code == 200, (key, response.content)
            assert len(response.json()["results"]) == answer.count, key
            for row in answer.by_activity:
                assert len(api.get(row["api_url"]).json()["results"]) == row["count"]


def test_queries_do_not_grow_with_the_data(known):
    with CaptureQueriesContext(connection) as small:
        compliance_report(PERIOD)
    for n in range(20):
        owner = target(event("Add owner to group", category="GroupManagement"), object_id=f"o{n}")
        ModifiedPropertyFactory(target=owner, name="Group.DisplayName", new_value='"X"')
        target(event("Add group", category="GroupManagement"), type="Group", name=f"G{n}")
    with CaptureQueriesContext(connection) as large:
        compliance_report(PERIOD)
    assert len(large) == len(small) <= 20


def test_an_object_listed_twice_in_one_event_counts_that_event_once():
    apps = "ApplicationManagement"
    twice = event("Update application", category=apps)
    target(twice, type="Application", object_id="app-9", name="Payroll", position=0)
    target(twice, type="Application", object_id="app-9", name="Payroll", position=1)
    target(event("Update application", category=apps), type="Application", object_id="app-9")
    answer = compliance_report(PERIOD).applications["applications"]
    assert [(i["object_id"], i["changes"]) for i in answer.items] == [("app-9", {"updated": 2})]


def test_target_answers_read_the_targets_index_without_joining_events(known):
    with CaptureQueriesContext(connection) as queries:
        compliance_report(PERIOD)
    target_queries = [
        q["sql"]
        for q in queries
        if '"logs_target"."event_activity_id" IN' in q["sql"] or "event_activity_id IN" in q["sql"]
    ]
    assert len(target_queries) == 2  # per object, and the licence and name properties
    for sql in target_queries:
        assert 'JOIN "logs_auditevent"' not in sql
    if connection.vendor == "sqlite":
        plan = query_plan(target_queries[0])
        assert "COVERING INDEX target_activity_date_idx" in plan
