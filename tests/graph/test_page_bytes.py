"""A list page (logs/graph/page.py) is byte for byte the page the endpoint served before it: each
event read as an EventRow, served by ``directory_audit`` and the body rendered by DRF's JSON
renderer, as the single record and the exports still are. Checked on every sample file's
events, names spelled in other cases, characters JSON writers treat differently, and a rebuilt
event holding a number, across $filter, $orderby, $top, paging and both versions."""

import json
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from django.http import QueryDict
from rest_framework.renderers import JSONRenderer

from logs.exports.graph_records import directory_audit
from logs.exports.selection import event_rows, event_values
from logs.graph.pagination import after, next_link, ordered
from logs.graph.query import parse_query
from logs.graph.views import COLLECTION, filtered_events
from logs.ingest.importer import import_file
from logs.models import AuditEvent
from tests.factories import (
    AuditEventFactory,
    GraphDirectoryAuditFactory,
    GraphTargetResourceFactory,
    GraphUserInitiatorFactory,
)
from tests.graph.support import BETA_LIST, V1_LIST, graph_error
from tests.support import FIXTURES_DIR

pytestmark = pytest.mark.django_db

BASE = "http://testserver/graph"
# Characters a JSON writer may escape or not: line and paragraph separators (DRF escapes them),
# control characters, DEL, a character outside the BMP, quotes and backslashes.
AWKWARD = 'a\u2028b\u2029c\x01\x1f\x7f\t\n"\\/ é 𝄞 \ufeff'

QUERIES = [
    {},
    {"$top": "1000"},
    {"$top": "3"},
    {"$top": "7", "$orderby": "activityDateTime asc"},
    {"$orderby": "activityDateTime desc", "$top": "5"},
    {"$filter": "activityDateTime ge 2026-11-02T11:05:00Z", "$top": "4"},
    {"$filter": "category eq 'UserManagement'", "$orderby": "activityDateTime asc"},
    {"$filter": "result eq 'failure'"},
    {"$filter": "activityDateTime lt 1990-01-01T00:00:00Z"},  # an empty page
    {"$filter": "startswith(initiatedBy/user/userPrincipalName, 'zoe.')", "$top": "2"},
    {"$filter": "targetResources/any(t: startswith(t/displayName, 'ventes'))"},
    {"$FILTER": "loggedByService eq 'Core Directory'", "top": "6"},
]


@pytest.fixture
def archive(db, tmp_path):
    """Every sample file (each format), generated events with awkward text and names in other
    letter cases, and a rebuilt event whose stored details hold a number."""
    for sample in sorted(FIXTURES_DIR.rglob("*.json")) + sorted(FIXTURES_DIR.rglob("*.csv")):
        assert import_file(sample).ok, sample
    moment = datetime(2026, 11, 2, 11, 5, tzinfo=UTC)
    initiator = GraphUserInitiatorFactory()
    initiator["user"].update(displayName=f"Zoë {AWKWARD}", userPrincipalName="zoe.a@example.org")
    records = [GraphDirectoryAuditFactory() for _ in range(30)]
    records += [
        GraphDirectoryAuditFactory(
            moment=moment,
            initiatedBy=initiator,
            activityDisplayName=f"Update user {AWKWARD}",
            targetResources=[
                GraphTargetResourceFactory(displayName=f"Ventes {AWKWARD}", type="Group")
            ],
            additionalDetails=[{"key": "note", "value": AWKWARD}],
        )
    ]
    # Property names in other letter cases (served under Graph's names) and one left out.
    spelt_otherwise = GraphDirectoryAuditFactory(moment=moment)
    spelt_otherwise["Category"] = spelt_otherwise.pop("category")
    spelt_otherwise["TargetResources"] = spelt_otherwise.pop("targetResources")
    del spelt_otherwise["resultReason"]
    records.append(spelt_otherwise)
    path = tmp_path / "generated.json"
    path.write_text(json.dumps({"value": records}), encoding="utf-8")
    assert import_file(path).new == len(records)
    AuditEventFactory(
        source_format="portal-csv",
        activity_datetime=moment,
        additional_details=[{"key": "count", "value": 1e16}, {"key": "ratio", "value": 0.5}],
    )
    return AuditEvent.objects.count()


def previous_body(version: str, params: dict) -> bytes:
    """The list page as the endpoint built it before logs/graph/page.py."""
    query_params = QueryDict(mutable=True)
    for name, value in params.items():
        query_params[name] = value
    query = parse_query(query_params)
    events = filtered_events(query.clauses)
    page = after(ordered(events, query.oldest_first), query.position, query.oldest_first)
    keys = list(page.values_list("activity_datetime", "pk")[: query.top + 1])
    ids = [pk for _, pk in keys[: query.top]]
    loaded = event_rows(event_values(AuditEvent.objects.filter(pk__in=ids), with_original=True))
    by_id = {row.pk: row for row in loaded}
    base = f"{BASE}/{version}"
    body = {
        "@odata.context": f"{base}/$metadata#{COLLECTION}",
        "value": [directory_audit(by_id[pk], version) for pk in ids],
    }
    if len(keys) > query.top:
        body["@odata.nextLink"] = next_link(
            f"{base}/{COLLECTION}", query_params, keys[query.top - 1], query.oldest_first
        )
    return JSONRenderer().render(body)


def walk(graph, version: str, list_path: str, params: dict) -> int:
    """Follow every page of the query, each compared with the previous build; the pages."""
    pages, url = 0, list_path
    while url:
        response = graph.get(url, params)
        assert response.status_code == 200, response.content
        assert response.content == previous_body(version, params), (params, pages)
        pages += 1
        link = json.loads(response.content).get("@odata.nextLink")
        url = link and link.removeprefix("http://testserver")
        params = dict(QueryDict(urlsplit(link).query).items()) if link else {}
    return pages


@pytest.mark.parametrize("params", QUERIES, ids=lambda params: str(params))
def test_every_page_is_the_previous_build_byte_for_byte(graph, archive, params):
    for version, list_path in (("v1.0", V1_LIST), ("beta", BETA_LIST)):
        assert walk(graph, version, list_path, params) >= 1


def test_the_pages_hold_every_format_and_the_awkward_records(graph, archive):
    """The comparison above covers what it claims: records served from originals of each kind
    and rebuilt ones, the awkward characters and the stored numbers."""
    formats = set(AuditEvent.objects.values_list("source_format", flat=True))
    assert {"graph", "portal-json", "azure-monitor", "portal-csv", "log-analytics"} <= formats
    content = graph.get(V1_LIST, {"$top": "1000"}).content
    assert len(json.loads(content)["value"]) == archive
    assert b"\\u2028" in content and b"\\u2029" in content and b"\\u0001" in content
    assert "𝄞".encode() in content
    # Stored numbers are served as their JSON text: every value a page holds is a string or
    # null, which orjson writes as the renderer does.
    records = json.loads(content)["value"]
    details = [d for r in records for d in r["additionalDetails"] if d["key"] in ("count", "ratio")]
    assert [detail["value"] for detail in details][1:] == ["0.5"]
    assert isinstance(details[0]["value"], str)


def test_select_and_an_oversized_top_are_still_refused(graph, archive):
    """The pages above are built only for requests the endpoint answers: $select is refused as
    not offered, a $top over Graph's 1,000 as invalid, whatever the page builder."""
    error = graph_error(graph.get(V1_LIST, {"$select": "id"}), 400)
    assert "$select" in error["message"] and "not supported" in error["message"]
    error = graph_error(graph.get(V1_LIST, {"$top": "1001"}), 400)
    assert "Invalid page size" in error["message"]
