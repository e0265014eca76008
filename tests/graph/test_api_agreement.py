"""The Graph endpoint and the REST API select the same events for the same filter: every
supported $filter form against its FilterSet parameter at /api/v1/events/, on every sample file
plus generated events and names in other letter cases.

The forms are listed once (FORMS); a guard test fails when the translator can produce a
FilterSet parameter that no form here checks, so a new form cannot arrive untested.
"""

import json
from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from logs.graph import odata
from logs.graph.odata import filter_clauses
from logs.ingest.importer import import_file
from logs.models import AuditEvent
from tests.factories import (
    GraphDirectoryAuditFactory,
    GraphTargetResourceFactory,
    GraphUserInitiatorFactory,
)
from tests.graph.support import V1_LIST
from tests.support import FIXTURES_DIR

pytestmark = pytest.mark.django_db

ZOE_ID = "3b8c5f2e-7d41-4c7a-9f0e-2a6d9c1b4e57"
VENTES_ID = "f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9"
SUBSTRATE_APP_ID = "98db8bd6-0cc0-4e67-9de5-f187f1cd1b41"
UPDATE_USER_CORRELATION = "5f0b7a3e-2c4d-4b8e-9a61-0d7e3c2b1a90"
BETA_ID = "Directory_504a302a-8f2d-418d-b7df-bf77de6ed831_M1N6X_27777783"

# (Graph $filter, the same selection as /api/v1/events/ parameters)
FORMS = [
    ("activityDateTime ge 2026-11-02T11:05:00Z", {"since": "2026-11-02T11:05:00Z"}),
    ("activityDateTime le 2026-11-02T11:05:00Z", {"until": "2026-11-02T11:05:00Z"}),
    ("activityDateTime gt 2026-11-02T11:05:00Z", {"after": "2026-11-02T11:05:00Z"}),
    ("activityDateTime lt 2026-11-02T11:05:00Z", {"before": "2026-11-02T11:05:00Z"}),
    (
        "activityDateTime eq 2026-11-02T11:05:00Z",
        {"since": "2026-11-02T11:05:00Z", "until": "2026-11-02T11:05:00Z"},
    ),
    (
        "activityDateTime ge 2026-11-02T09:00:00+01:00 and activityDateTime le 2026-11-02T15:00:00",
        {"since": "2026-11-02T09:00:00+01:00", "until": "2026-11-02T15:00:00"},
    ),
    ("activityDisplayName eq 'UPDATE GROUP'", {"activity_name": "UPDATE GROUP"}),
    ("startswith(activityDisplayName, 'update')", {"activity_name_startswith": "update"}),
    ("category eq 'groupManagement'", {"category_name": "groupManagement"}),
    (
        "loggedByService eq 'Self-service Password Management'",
        {"service_name": "Self-service Password Management"},
    ),
    ("result eq 'failure'", {"result": "failure"}),
    (f"correlationId eq {UPDATE_USER_CORRELATION}", {"correlation_id": UPDATE_USER_CORRELATION}),
    (f"correlationId eq '{UPDATE_USER_CORRELATION}'", {"correlation_id": UPDATE_USER_CORRELATION}),
    (f"id eq '{BETA_ID}'", {"activity_id": BETA_ID}),
    (f"initiatedBy/user/id eq '{ZOE_ID}'", {"initiator_user_id": ZOE_ID}),
    ("initiatedBy/user/displayName eq 'AUDRY OLIVER'", {"initiator_user_name": "AUDRY OLIVER"}),
    ("initiatedBy/user/displayName eq 'Zoë Ångström'", {"initiator_user_name": "Zoë Ångström"}),
    (
        "initiatedBy/user/userPrincipalName eq 'ZOE.ANGSTROM@contoso.example'",
        {"initiator_upn": "ZOE.ANGSTROM@contoso.example"},
    ),
    (
        "startswith(initiatedBy/user/userPrincipalName, 'zoe.')",
        {"initiator_upn_startswith": "zoe."},
    ),
    (f"initiatedBy/app/appId eq '{SUBSTRATE_APP_ID}'", {"initiator_app_id": SUBSTRATE_APP_ID}),
    (
        "initiatedBy/app/displayName eq 'microsoft substrate management'",
        {"initiator_app_name": "microsoft substrate management"},
    ),
    (f"targetResources/any(t: t/id eq '{VENTES_ID}')", {"target_id": VENTES_ID}),
    (f"targetResources/any(x:x/id eq {VENTES_ID})", {"target_id": VENTES_ID}),
    (
        "targetResources/any(t: t/displayName eq 'payroll CONNECTOR')",
        {"target_name": "payroll CONNECTOR"},
    ),
    (
        "targetResources/any(t: startswith(t/displayName, 'ventes'))",
        {"target_name_startswith": "ventes"},
    ),
    (
        "activityDateTime ge 2026-11-02T00:00:00Z and category eq 'UserManagement' "
        "and startswith(initiatedBy/user/userPrincipalName, 'Zoe')",
        {
            "since": "2026-11-02T00:00:00Z",
            "category_name": "UserManagement",
            "initiator_upn_startswith": "Zoe",
        },
    ),
]


def write_records(path, records) -> None:
    path.write_text(json.dumps({"value": records}), encoding="utf-8")


@pytest.fixture
def archive(db, tmp_path):
    """Every sample file, generated events, and names and ids written in other cases."""
    for sample in sorted(FIXTURES_DIR.rglob("*.json")) + sorted(FIXTURES_DIR.rglob("*.csv")):
        assert import_file(sample).ok, sample
    moment = datetime(2026, 11, 2, 11, 5, tzinfo=UTC)
    shouting = GraphUserInitiatorFactory()
    shouting["user"].update(
        displayName="ZOË ÅNGSTRÖM", userPrincipalName="Zoe.Angstrom@CONTOSO.example"
    )
    records = [GraphDirectoryAuditFactory() for _ in range(60)]
    records += [
        GraphDirectoryAuditFactory(moment=moment, initiatedBy=shouting),
        GraphDirectoryAuditFactory(
            moment=moment,
            targetResources=[
                GraphTargetResourceFactory(
                    id=VENTES_ID.upper(), displayName="VENTES Région Île-de-France", type="Group"
                )
            ],
        ),
    ]
    write_records(tmp_path / "generated.json", records)
    assert import_file(tmp_path / "generated.json").new == len(records)
    return AuditEvent.objects.count()


def graph_ids(client, graph_filter: str, **options) -> list[str]:
    ids, url, params = [], V1_LIST, {"$filter": graph_filter, "$top": "7", **options}
    while url:
        response = client.get(url, params)
        assert response.status_code == 200, (graph_filter, response.content)
        body = response.json()
        ids += [record["id"] for record in body["value"]]
        url, params = body.get("@odata.nextLink"), None
    return ids


def api_ids(client, params: dict) -> list[str]:
    ids, url, query = [], "/api/v1/events/", {**params, "page_size": 7}
    while url:
        response = client.get(url, query)
        assert response.status_code == 200, (params, response.content)
        body = response.json()
        ids += [event["activity_id"] for event in body["results"]]
        url, query = body["next"], None
    return ids


@pytest.fixture
def api(admin_user):
    client = APIClient()
    client.force_login(admin_user)
    return client


def test_graph_and_the_api_select_the_same_events(graph, api, archive):
    # One test for all forms: the archive takes longer to build than the forms to check.
    for graph_filter, params in FORMS:
        from_graph = graph_ids(graph, graph_filter)
        assert from_graph == api_ids(api, params), graph_filter  # the same, newest first
        assert 0 < len(from_graph) < archive, f"{graph_filter} selects some events, not all"


def test_oldest_first_too(graph, api, archive):
    for graph_filter, params in FORMS[:3] + FORMS[-4:]:
        from_graph = graph_ids(graph, graph_filter, **{"$orderby": "activityDateTime asc"})
        assert from_graph == api_ids(api, {**params, "ordering": "date"}), graph_filter


def test_every_parameter_the_translator_produces_is_checked_here():
    producible = {name for names in odata.DATE_PARAMETERS.values() for name in names}
    for properties in (odata.STRING_PROPERTIES, odata.TARGET_PROPERTIES):
        for _, equals, starts, _ in properties.values():
            producible |= {equals} | ({starts} if starts else set())
    checked = {
        name
        for graph_filter, _ in FORMS
        for clause in filter_clauses(graph_filter)
        for name in clause
    }
    assert checked == producible
    assert {name for _, params in FORMS for name in params} == producible
