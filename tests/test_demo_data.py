"""Generated demo data reads true: one tenant whose users, groups and applications keep their
names and ids from event to event, in time order, so the compliance answers count real things."""

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from logs.demo_data import APP_NAMES, GROUP_NAMES, generate_records
from logs.ingest.generated import store_generated_records
from logs.insights.answers import Period
from logs.insights.builder import compliance_report

WINDOW_END = datetime(2026, 11, 30, tzinfo=UTC)
RECORDS = list(generate_records(3000, seed=1, window_end=WINDOW_END))


def values(record, name):
    for target in record["targetResources"]:
        for prop in target["modifiedProperties"]:
            if prop["displayName"] == name:
                return prop["oldValue"], prop["newValue"]
    return None


def test_records_come_in_time_order():
    moments = [record["activityDateTime"] for record in RECORDS]
    assert moments == sorted(moments)
    assert WINDOW_END - timedelta(days=90) <= datetime.fromisoformat(moments[0][:26] + "+00:00")


def test_application_renames_rename_applications_and_the_new_name_sticks():
    names_by_app = {}  # application id -> its current name, in time order
    renames = 0
    for record in RECORDS:
        for target in record["targetResources"]:
            if target["type"] != "Application":
                continue
            rename = values(record, "DisplayName")
            if record["activityDisplayName"] == "Update application" and rename:
                (old,), (new,) = json.loads(rename[0]), json.loads(rename[1])
                assert old != new
                assert old not in GROUP_NAMES and new not in GROUP_NAMES
                if target["id"] in names_by_app:
                    assert old == names_by_app[target["id"]], "renamed from the name it had"
                assert target["displayName"] == new
                renames += 1
            elif target["id"] in names_by_app:
                # Every other record names the application as it is called then.
                assert target["displayName"] == names_by_app[target["id"]]
            names_by_app[target["id"]] = target["displayName"]
    assert renames > 10
    known = set(APP_NAMES)
    assert known & set(names_by_app.values()), "applications carry application names"


def test_a_user_keeps_one_name_and_is_changed_more_than_once():
    upn_by_id = {}
    changes_by_id = defaultdict(int)
    for record in RECORDS:
        for target in record["targetResources"]:
            if target["type"] == "User" and target.get("userPrincipalName"):
                assert (
                    upn_by_id.setdefault(target["id"], target["userPrincipalName"])
                    == (target["userPrincipalName"])
                )
                changes_by_id[target["id"]] += 1
    upns = list(upn_by_id.values())
    assert len(upns) == len(set(upns)), "one user principal name, one user"
    assert max(changes_by_id.values()) >= 5
    assert sum(1 for count in changes_by_id.values() if count > 1) > len(changes_by_id) / 2


def test_membership_records_name_real_groups_roles_and_applications():
    group_names = {}
    for record in RECORDS:
        object_id = values(record, "Group.ObjectID")
        if object_id is None:
            continue
        old_id, new_id = object_id
        assert old_id is None and len(json.loads(new_id)) == 36
        name = json.loads(values(record, "Group.DisplayName")[1])
        assert group_names.setdefault(json.loads(new_id), name) == name
    assert len(group_names) >= len(GROUP_NAMES) // 2


@pytest.mark.django_db
def test_distinct_users_changed_is_fewer_than_the_changes():
    assert store_generated_records(RECORDS, label="demo").new == len(RECORDS)
    report = compliance_report(Period.default(until=WINDOW_END))
    changes = report.users["changes"].count
    distinct = report.users["distinct_users"].count
    assert 0 < distinct < changes * 0.8, (distinct, changes)
    renames = report.applications["renames"]
    assert renames.count > 0
    for item in renames.items:
        assert item["old_name"] not in GROUP_NAMES and item["new_name"] not in GROUP_NAMES


def test_the_same_seed_gives_the_same_records_and_another_seed_others():
    again = list(generate_records(3000, seed=1, window_end=WINDOW_END))
    assert again == RECORDS
    other = list(generate_records(50, seed=2, window_end=WINDOW_END))
    assert [record["id"] for record in other] != [record["id"] for record in RECORDS[:50]]
