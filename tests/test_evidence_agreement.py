"""Every way out of auditportal gives the same events for the same filter.

For each parameter of the shared FilterSet (and each date preset and ordering), with a value
that selects a strict, non-empty part of the data, these are the same events, in the same
order:

- the changelist (its count, and its rows page after page);
- Download → CSV and Download → JSON, followed from the changelist's own links;
- the "Export selected" action with every event of the view selected (select_across);
- the API's list (``/api/v1/events/``, every page) and its JSON export;
- ``export_audit_logs`` with the same options;

and each export's access record stores exactly the filters applied. The parameters are read
from the FilterSet itself: a filter added without a case here fails this test.
"""

import csv
import io
import json
import re
from datetime import timedelta
from html import unescape
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from logs.filters import MULTI_VALUED_FILTERS, ORDERINGS, PERIODS, AuditEventFilterSet
from logs.ingest.importer import import_file
from logs.models import AccessRecord, AuditEvent, ColumnPreference
from logs.roles import AUDIT_EXPORTER
from tests.factories import AuditEventFactory, GraphDirectoryAuditFactory, TargetFactory
from tests.support import FIXTURES_DIR

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/logs/auditevent/"
EVENTS_API = "/api/v1/events/"
ZOE = "zoe.angstrom@contoso.example"
VENTES = "Ventes Région Île-de-France"
VENTES_ID = "f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9"

# Parameter → cases (each the whole query of one case; most give only that parameter).
CASES = {
    "since": [{"since": "2026-11-02T12:00:00Z"}],
    "until": [{"until": "2026-11-02T10:00:00+00:00"}],
    "period": [{"period": key} for key in PERIODS],
    "service": [{"service": "Self-service Password Management"}],
    "category": [{"category": "GroupManagement"}],
    "activity": [{"activity": "Update user"}, {"activity": ["Update user", "Update group"]}],
    "result": [{"result": "failure"}],
    "operation_type": [{"operation_type": "Assign"}],
    "initiator": [{"initiator": ZOE}, {"initiator": "Microsoft Substrate Management"}],
    "target": [{"target": VENTES}, {"target": VENTES_ID}],
    "target_type": [{"target_type": "Group"}],
    "correlation_id": [{"correlation_id": "b662f17a-4e4d-4e1c-9248-cdec180024b2"}],
    "informational": [{"informational": "true"}, {"informational": "false"}],
    "notes": [{"notes": "true"}, {"notes": "false"}],
    # The portal CSV's six events are also imported from formats with ids: hidden by default.
    "duplicates": [
        {"duplicates": "only"},
        {"duplicates": "hide"},
        {"duplicates": "show", "category": "UserManagement"},
    ],
    "search": [{"search": "Update"}, {"search": "zoe"}],
    # The precise filters (one per $filter form of the Graph-compatible endpoint).
    "after": [{"after": "2026-11-02T11:05:00Z"}],
    "before": [{"before": "2026-11-02T11:05:00Z"}],
    "activity_id": [
        {"activity_id": "Directory_5f0b7a3e-2c4d-4b8e-9a61-0d7e3c2b1a90_PJSON_10000001"}
    ],
    "activity_name": [{"activity_name": "UPDATE USER"}],
    "activity_name_startswith": [{"activity_name_startswith": "update"}],
    "service_name": [{"service_name": "self-service password management"}],
    "category_name": [{"category_name": "groupmanagement"}],
    "initiator_user_id": [{"initiator_user_id": "3b8c5f2e-7d41-4c7a-9f0e-2a6d9c1b4e57"}],
    "initiator_user_name": [{"initiator_user_name": "Zoë Ångström"}],
    "initiator_upn": [{"initiator_upn": ZOE.upper()}],
    "initiator_upn_startswith": [{"initiator_upn_startswith": "zoe."}],
    "initiator_app_id": [{"initiator_app_id": "98db8bd6-0cc0-4e67-9de5-f187f1cd1b41"}],
    "initiator_app_name": [{"initiator_app_name": "microsoft substrate management"}],
    "target_id": [{"target_id": VENTES_ID}],
    "target_name": [{"target_name": "PAYROLL CONNECTOR"}],
    "target_name_startswith": [{"target_name_startswith": "ventes"}],
    # An ordering selects everything; with a category it selects a strict part, in its order.
    "ordering": [{"ordering": key, "category": "GroupManagement"} for key in ORDERINGS],
}


def all_cases():
    for name, cases in CASES.items():
        for query in cases:
            yield pytest.param(query, id=f"{name}:{urlencode(query, doseq=True)}")


def test_every_parameter_preset_and_ordering_has_a_case():
    assert set(CASES) == set(AuditEventFilterSet.base_filters)
    assert {case["period"] for case in CASES["period"]} == set(PERIODS)
    assert {case["ordering"] for case in CASES["ordering"]} == set(ORDERINGS)


@pytest.fixture
def everything(db, tmp_path_factory):
    """Every fixture file, and events of the last day, week and month for the presets."""
    for path in sorted(FIXTURES_DIR.rglob("*.json")) + sorted(FIXTURES_DIR.rglob("*.csv")):
        assert import_file(path).ok, path
    # A record with a value that does not fit (an unknown result), stored with a note.
    noted = GraphDirectoryAuditFactory(result="partly")
    path = tmp_path_factory.mktemp("noted") / "noted.json"
    path.write_text(json.dumps({"value": [noted]}), encoding="utf-8")
    assert import_file(path).with_notes == 1
    now = timezone.now()
    for age in [timedelta(hours=1), timedelta(days=3), timedelta(days=20)]:
        TargetFactory(event=AuditEventFactory(activity_datetime=now - age), type="User")


@pytest.fixture
def exporter(django_user_model):
    user = django_user_model.objects.create_user("exporter", is_staff=True)
    user.groups.add(Group.objects.get(name=AUDIT_EXPORTER))
    # One column, the Entra id, so that a CSV row names its event.
    ColumnPreference.objects.create(user=user, columns=["activity_id"])
    return user


@pytest.fixture
def portal(client, exporter):
    client.force_login(exporter)
    return client


@pytest.fixture
def api(exporter):
    client = APIClient()
    client.force_login(exporter)
    return client


def changelist_query(query: dict) -> dict:
    """The case's query as the changelist's URL gives it: the search box is ``q``."""
    return {("q" if name == "search" else name): value for name, value in query.items()}


def changelist_pages(portal, query: dict):
    """(count, ids on every page, the first page's response)."""
    url = f"{CHANGELIST}?{urlencode(changelist_query(query), doseq=True)}"
    first = portal.get(url)
    assert first.status_code == 200
    changelist = first.context_data["cl"]
    assert changelist.filters_valid, changelist.applied_filters.problems()
    ids = [event.entra_id for event in changelist.result_list]
    for number in range(2, changelist.paginator.num_pages + 1):
        page = portal.get(f"{url}&p={number}").context_data["cl"]
        ids += [event.entra_id for event in page.result_list]
    return changelist.result_count, ids, first


def download_link(page, format: str) -> str:
    match = re.search(rf'id="download-{format}" href="([^"]*)"', page.content.decode())
    assert match, f"no Download {format} link"
    return unescape(match.group(1))


def streamed(response) -> str:
    assert response.status_code == 200, response
    assert response.streaming
    return b"".join(response.streaming_content).decode("utf-8")


def csv_ids(text: str) -> list[str]:
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["Activity ID"]
    return [row[0] for row in rows[1:]]


def json_ids(text: str) -> list[str]:
    return [record["id"] for record in json.loads(text)]


def api_ids(api, query: dict) -> list[str]:
    ids, url = [], f"{EVENTS_API}?{urlencode({**query, 'page_size': 7}, doseq=True)}"
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        ids += [row["activity_id"] for row in response.json()["results"]]
        url = response.json()["next"]
    return ids


def command_ids(query: dict, tmp_path) -> list[str]:
    path = tmp_path / "export.ndjson"
    options = {f"filter_{name}": value for name, value in query.items()}
    call_command("export_audit_logs", format="ndjson", output=str(path), **options)
    return [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines()]


def recorded(query: dict) -> dict:
    """The filters an access record stores: a parameter that takes several values as a list."""
    return {
        name: [value] if name in MULTI_VALUED_FILTERS and isinstance(value, str) else value
        for name, value in query.items()
    }


def last_export_filters(via: str) -> dict:
    record = AccessRecord.objects.filter(action=AccessRecord.Action.EXPORT, detail__via=via)
    return record.latest("pk").detail["filters"]


@pytest.mark.parametrize("query", list(all_cases()))
def test_every_way_out_gives_the_same_events(everything, portal, api, tmp_path, query):
    expected = set(
        AuditEventFilterSet(query, queryset=AuditEvent.objects.all()).qs.values_list(
            "entra_id", flat=True
        )
    )
    assert 0 < len(expected) < AuditEvent.objects.count(), f"{query} proves nothing"
    if "duplicates" not in query:
        # Every other filter leaves out the duplicates, as its default.
        assert not expected & set(
            AuditEventFilterSet(
                {"duplicates": "only"}, queryset=AuditEvent.objects.all()
            ).qs.values_list("entra_id", flat=True)
        )

    count, listed, page = changelist_pages(portal, query)
    assert count == len(listed) == len(set(listed))
    assert set(listed) == expected, "changelist"

    downloaded_csv = csv_ids(streamed(portal.get(download_link(page, "csv"))))
    assert downloaded_csv == listed, "Download → CSV"
    assert last_export_filters("admin download") == recorded(query)
    downloaded_json = json_ids(streamed(portal.get(download_link(page, "json"))))
    assert downloaded_json == listed, "Download → JSON"
    assert last_export_filters("admin download") == recorded(query)

    one_on_the_page = page.context_data["cl"].result_list[0].pk
    action = portal.post(
        f"{CHANGELIST}?{urlencode(changelist_query(query), doseq=True)}",
        {
            "action": "export_selected_json",
            "select_across": "1",
            "index": "0",
            "_selected_action": [str(one_on_the_page)],
        },
    )
    assert json_ids(streamed(action)) == listed, "Export selected, all"
    assert last_export_filters("admin action") == {
        **recorded(query),
        "selected": 1,
        "select_across": True,
    }

    assert api_ids(api, query) == listed, "API list"
    api_export = api.get(EVENTS_API, {**query, "format": "json"})
    assert json_ids(streamed(api_export)) == listed, "API export"
    assert last_export_filters("api") == recorded(query)

    assert command_ids(recorded(query), tmp_path) == listed, "export_audit_logs"
    assert last_export_filters("command") == recorded(query)


@pytest.mark.parametrize("query", [{"period": "7d", "category": "UserManagement"}])
def test_a_filtered_page_links_to_a_download_of_exactly_its_filters(everything, portal, query):
    _, _, page = changelist_pages(portal, {**query, "search": "update"})
    expected = {**query, "search": "update"}
    for format in ("csv", "json"):
        link = download_link(page, format)
        assert link == f"{CHANGELIST}export/{format}/?{urlencode(expected)}"
