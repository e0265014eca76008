"""The benchmark's generated data: the demo generator's shapes, a large tenant's variety.

The file is 2,000 records (the pool is made for those alone), so the variety is asserted in
proportion: a tenant of tens of thousands of people gives nearly every record's people their
own, where the demo's few hundred people would repeat.
"""

import json
from collections import defaultdict
from io import StringIO

import pytest
from django.core.management import call_command

from benchmarks import datafile
from benchmarks.datafile import GENERATOR_VERSION, data_file, iter_records, write_records
from benchmarks.population import DOMAIN, Population, text_safe, user_agents
from logs.demo_data import generate_records
from logs.models import AuditEvent, Initiator, Target

EVENTS = 2000
SEED = 7


@pytest.fixture(scope="module")
def records():
    return list(iter_records(EVENTS, SEED))


def _people(records):
    """Every (id, display name, UPN) a record names a person by: initiators and targets."""
    for record in records:
        user = (record["initiatedBy"] or {}).get("user")
        if user:
            yield user["id"], user["displayName"], user["userPrincipalName"]
        for target in record["targetResources"]:
            if target["type"] == "User":
                yield target["id"], target["displayName"], target["userPrincipalName"]


def _shape(value):
    """A value's structure: keys, list lengths and types, not the values themselves."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(item) for item in value]
    return type(value).__name__


def test_records_keep_the_demo_generator_s_shapes_activities_and_outcomes(records):
    # A file no larger than the pool holds each pool record once, in order.
    pool = list(generate_records(EVENTS, seed=SEED))
    unchanged = ("category", "result", "resultReason", "activityDisplayName",
                 "loggedByService", "operationType")  # fmt: skip
    for record, template in zip(records, pool, strict=True):
        assert _shape(record) == _shape(template)
        assert [record[key] for key in unchanged] == [template[key] for key in unchanged]
        for target, pool_target in zip(
            record["targetResources"], template["targetResources"], strict=True
        ):
            assert target["type"] == pool_target["type"]
            assert [p["displayName"] for p in target["modifiedProperties"]] == [
                p["displayName"] for p in pool_target["modifiedProperties"]
            ]


def test_the_values_the_benchmarks_filter_by_are_there(records):
    # benchmarks/browse.py and graph.py filter by these; the rest they take from the data.
    assert {"Add member to group", "Update user"} <= {r["activityDisplayName"] for r in records}
    assert "Self-service Password Management" in {r["loggedByService"] for r in records}
    assert {"GroupManagement", "UserManagement"} <= {r["category"] for r in records}
    assert "failure" in {r["result"] for r in records}
    assert "Delete" in {r["operationType"] for r in records}
    types = {t["type"] for r in records for t in r["targetResources"]}
    assert {"Application", "Group", "User"} <= types


def test_people_are_many_and_each_keeps_one_id_name_and_upn(records):
    names, upns, ids_of_upn = defaultdict(set), defaultdict(set), defaultdict(set)
    mentions = 0
    for object_id, name, upn in _people(records):
        mentions += 1
        names[object_id].add(name)
        upns[object_id].add(upn)
        ids_of_upn[upn].add(object_id)
    assert all(len(values) == 1 for values in names.values())
    assert all(len(values) == 1 for values in upns.values())
    assert all(len(values) == 1 for values in ids_of_upn.values())
    # The demo's tenant has a few hundred people; this one gives most mentions a person of
    # their own (a few people, the busiest, recur far more).
    assert len(names) >= 0.8 * mentions
    assert all(upn.endswith(f"@{DOMAIN}") and upn.isascii() for upn in ids_of_upn)


def test_person_properties_name_the_target_they_change(records):
    for record in records:
        for target in record["targetResources"]:
            for prop in target["modifiedProperties"]:
                if target["type"] == "User" and prop["displayName"] == "DisplayName":
                    assert json.loads(prop["newValue"]) == [target["displayName"]]
                if target["type"] == "User" and prop["displayName"] == "UserPrincipalName":
                    assert json.loads(prop["newValue"]) == [target["userPrincipalName"]]


def test_groups_and_applications_are_many_and_keep_their_names(records):
    group_names, app_names = defaultdict(set), defaultdict(set)
    for record in records:
        for target in record["targetResources"]:
            if target["type"] == "Group":
                group_names[target["id"]].add(target["displayName"])
            if target["type"] == "Application":
                app_names[target["id"]].add(target["displayName"])
            linked = {p["displayName"]: p["newValue"] for p in target["modifiedProperties"]}
            if "Group.ObjectID" in linked:
                group_names[json.loads(linked["Group.ObjectID"])].add(
                    json.loads(linked["Group.DisplayName"])
                )
            if "Application.ObjectID" in linked:
                app_names[json.loads(linked["Application.ObjectID"])].add(
                    json.loads(linked["Application.DisplayName"])
                )
    assert all(len(names) == 1 for names in group_names.values())
    # An application keeps its name, or its name and the one a rename gave it.
    assert all(len(names) <= 2 for names in app_names.values())
    assert len(group_names) >= 100
    assert len(app_names) >= 40


def test_a_rename_names_the_application_by_its_new_name(records):
    renames = [
        (target, prop)
        for record in records
        for target in record["targetResources"]
        for prop in target["modifiedProperties"]
        if target["type"] == "Application"
        and prop["displayName"] == "DisplayName"
        and prop["oldValue"] != "[]"
    ]
    assert renames
    for target, prop in renames:
        assert json.loads(prop["newValue"]) == [target["displayName"]]
        assert json.loads(prop["oldValue"]) != [target["displayName"]]


def test_user_agents_addresses_and_updated_values_vary(records):
    agents = {
        detail["value"]
        for record in records
        for detail in record["additionalDetails"]
        if detail["key"] == "User-Agent"
    }
    addresses = {
        record["initiatedBy"]["user"]["ipAddress"]
        for record in records
        if (record["initiatedBy"] or {}).get("user")
    }
    departments = {
        prop["newValue"]
        for record in records
        for target in record["targetResources"]
        for prop in target["modifiedProperties"]
        if prop["displayName"] in ("Department", "JobTitle")
    }
    assert len(agents) >= 50
    assert len(addresses) >= 500
    assert len(departments) >= 50


def test_the_same_seed_gives_the_same_file_and_another_seed_another(tmp_path):
    first, again, other = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    write_records(first, 300, seed=3)
    write_records(again, 300, seed=3)
    write_records(other, 300, seed=4)
    assert first.read_bytes() == again.read_bytes()
    assert first.read_bytes() != other.read_bytes()


def test_the_population_is_a_large_tenant_with_values_json_need_not_escape():
    population = Population(seed=1)
    assert len(population.people) >= 10_000
    assert len(population.groups) >= 1_000
    assert len(population.apps) >= 100
    assert len({person.userPrincipalName for person in population.people}) == len(population.people)
    assert len({group.displayName for group in population.groups}) == len(population.groups)
    assert len({app.displayName for app in population.apps}) == len(population.apps)
    values = [
        value
        for objects in (population.people, population.groups, population.apps)
        for item in objects
        for value in vars(item).values()
    ]
    assert all(text_safe(value) for value in values + user_agents())


def test_the_file_is_named_for_its_generator(tmp_path, monkeypatch):
    written = []
    monkeypatch.setattr(datafile, "write_records", lambda path, *_: written.append(path))
    path = data_file(tmp_path, 10, seed=2)
    assert path.name == f"graph-10-seed2-gen{GENERATOR_VERSION}.json"
    assert written == [path]
    # A file of an earlier generator, under the old name, is not the one used.
    (tmp_path / "graph-10-seed2.json").write_text("{}")
    assert data_file(tmp_path, 10, seed=2) == path


@pytest.mark.django_db
def test_every_record_imports_strictly_with_import_audit_logs(tmp_path):
    path = tmp_path / "graph.json"
    write_records(path, 500, seed=SEED)
    out = StringIO()
    call_command("import_audit_logs", str(path), "--strict", stdout=out, stderr=StringIO())

    assert AuditEvent.objects.count() == 500
    people = set(_people(iter_records(500, SEED)))
    stored = set(
        Target.objects.filter(type="User").values_list(
            "object_id", "display_name", "user_principal_name"
        )
    ) | set(
        Initiator.objects.filter(kind="user").values_list(
            "user_object_id", "user_display_name", "user_principal_name"
        )
    )
    assert stored == people
