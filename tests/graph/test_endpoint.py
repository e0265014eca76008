"""The Graph-compatible endpoint through Django's test client: Graph's envelope, paging by
skiptoken, get by id, errors in Graph's form, bearer tokens, roles, rates and the trail."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Group
from knox.models import AuthToken
from rest_framework.test import APIClient

from logs.exports.selection import event_rows, event_values
from logs.models import AccessRecord, AuditEvent
from logs.roles import AUDIT_EXPORTER, COMPLIANCE_ADMINISTRATOR, INGESTION_SERVICE
from tests.factories import AuditEventFactory
from tests.graph.support import BETA_LIST, V1_LIST, graph_error, served_ids
from tests.support import SIX_ACTIVITIES_NEWEST_FIRST

pytestmark = pytest.mark.django_db


def newest_first_ids() -> list[str]:
    return list(
        AuditEvent.objects.order_by("-activity_datetime", "-id").values_list("entra_id", flat=True)
    )


def test_the_list_in_graph_envelope_newest_first(graph, six_events):
    response = graph.get(V1_LIST)
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"@odata.context", "value"}  # no nextLink: everything fits
    assert body["@odata.context"] == (
        "http://testserver/graph/v1.0/$metadata#auditLogs/directoryAudits"
    )
    assert [record["activityDisplayName"] for record in body["value"]] == (
        SIX_ACTIVITIES_NEWEST_FIRST
    )
    assert served_ids(response) == newest_first_ids()


def test_records_are_the_shared_served_records(graph, six_events):
    """The same objects as the JSON export (one function), per version."""
    from logs.exports.graph_records import directory_audit

    events = AuditEvent.objects.order_by("-activity_datetime", "-id")
    rows = event_rows(event_values(events, with_original=True))
    assert graph.get(V1_LIST).json()["value"] == [directory_audit(row, "v1.0") for row in rows]
    assert graph.get(BETA_LIST).json()["value"] == [directory_audit(row, "beta") for row in rows]
    assert "userAgent" in graph.get(BETA_LIST).json()["value"][0]
    assert "userAgent" not in graph.get(V1_LIST).json()["value"][0]


def test_paths_compare_without_regard_to_case(graph, six_events):
    response = graph.get("/graph/V1.0/auditlogs/directoryaudits/")
    assert served_ids(response) == newest_first_ids()
    assert response.json()["@odata.context"].startswith("http://testserver/graph/v1.0/$metadata")


@pytest.mark.parametrize("top", [1, 2, 4, 5])
def test_paging_by_skiptoken_serves_every_event_once(graph, six_events, top):
    seen, url, pages = [], f"{V1_LIST}?$top={top}", 0
    while url:
        response = graph.get(url)
        body = response.json()
        seen += served_ids(response)
        pages += 1
        assert len(body["value"]) == top or "@odata.nextLink" not in body
        assert body["value"], "never an empty page"
        url = body.get("@odata.nextLink")
        if url:
            assert url.startswith("http://testserver/graph/v1.0/auditLogs/directoryAudits?")
            query = parse_qs(urlsplit(url).query)
            assert query["$top"] == [str(top)]
            assert set(query) == {"$top", "$skiptoken"}
    assert seen == newest_first_ids()
    assert pages == -(-6 // top)


def test_no_next_link_when_the_last_page_is_exactly_full(graph, six_events):
    body = graph.get(V1_LIST, {"$top": "3"}).json()
    last = graph.get(body["@odata.nextLink"]).json()
    assert len(last["value"]) == 3
    assert "@odata.nextLink" not in last


def test_paging_oldest_first_keeps_the_filter_and_the_order(graph, six_events):
    query = {
        "$filter": "loggedByService eq 'Core Directory'",
        "$orderby": "activityDateTime asc",
        "$top": "2",
    }
    seen, url = [], None
    response = graph.get(V1_LIST, query)
    while True:
        seen += [record["activityDisplayName"] for record in response.json()["value"]]
        url = response.json().get("@odata.nextLink")
        if not url:
            break
        assert "$filter=loggedByService%20eq%20'Core%20Directory'" in url
        assert "$orderby=activityDateTime%20asc" in url
        response = graph.get(url)
    assert seen == [
        "Update user",
        "Update group",
        "Update application",
        "Add owner to group",
        "Update policy",
    ]


def test_a_page_walk_is_stable_while_events_arrive(graph, six_events):
    """An event imported between two pages, dated where the walk already passed, is not
    served (keyset, not offset); none is served twice or skipped."""
    first = graph.get(V1_LIST, {"$top": "3"}).json()
    newest = AuditEvent.objects.order_by("-activity_datetime").first().activity_datetime
    AuditEventFactory(activity_datetime=newest + timedelta(hours=1))
    AuditEventFactory(activity_datetime=newest - timedelta(microseconds=1))
    rest = graph.get(first["@odata.nextLink"]).json()
    walked = [r["id"] for r in first["value"]] + [r["id"] for r in rest["value"]]
    assert len(walked) == len(set(walked))
    original_six = set(
        AuditEvent.objects.filter(source_format="portal-json").values_list("entra_id", flat=True)
    )
    assert original_six <= set(walked)


def test_orderby_both_ways(graph, six_events):
    asc = served_ids(graph.get(V1_LIST, {"$orderby": "activityDateTime asc"}))
    desc = served_ids(graph.get(V1_LIST, {"$orderby": "activityDateTime desc"}))
    assert desc == newest_first_ids() == asc[::-1]
    assert served_ids(graph.get(V1_LIST, {"$orderby": "activityDateTime"})) == asc


def test_get_by_id(graph, six_events):
    event = AuditEvent.objects.get(activity__name="Update group")
    response = graph.get(f"{V1_LIST}/{event.entra_id}")
    body = response.json()
    assert body.pop("@odata.context") == (
        "http://testserver/graph/v1.0/$metadata#auditLogs/directoryAudits/$entity"
    )
    listed = graph.get(V1_LIST).json()["value"]
    assert body == next(record for record in listed if record["id"] == event.entra_id)


def test_an_unknown_id_is_404_in_graph_form(graph, six_events):
    error = graph_error(graph.get(f"{V1_LIST}/no-such-id"), 404)
    assert error["code"] == "Request_ResourceNotFound"
    assert "no-such-id" in error["message"]


@pytest.mark.parametrize(
    "url", ["/graph/v1.0/auditLogs/signIns", "/graph/v2.0/auditLogs/directoryAudits", "/graph/"]
)
def test_an_unknown_path_is_404_in_graph_form(graph, url):
    assert graph_error(graph.get(url), 404)["code"] == "Request_ResourceNotFound"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"$filter": "activityDisplayName eq 'x' or id eq 'y'"}, "Request_UnsupportedQuery"),
        ({"$filter": "operationType eq 'Add'"}, "Request_UnsupportedQuery"),
        ({"$filter": "id ne 'x'"}, "Request_UnsupportedQuery"),
        ({"$filter": "not (id eq 'x')"}, "Request_UnsupportedQuery"),
        ({"$filter": "contains(activityDisplayName, 'x')"}, "Request_UnsupportedQuery"),
        ({"$filter": "startswith(category, 'x')"}, "Request_UnsupportedQuery"),
        ({"$filter": "targetResources/all(t: t/id eq 'x')"}, "Request_UnsupportedQuery"),
        ({"$filter": "targetResources/any(t: t/type eq 'User')"}, "Request_UnsupportedQuery"),
        ({"$filter": "activityDateTime ne 2024-01-01T00:00:00Z"}, "Request_UnsupportedQuery"),
        ({"$filter": "activityDisplayName eq "}, "BadRequest"),
        ({"$filter": "activityDisplayName eq 'unterminated"}, "BadRequest"),
        ({"$filter": "activityDateTime ge '2024-01-01'"}, "BadRequest"),
        ({"$filter": "activityDateTime ge 2024-13-01T00:00:00Z"}, "BadRequest"),
        ({"$filter": "id eq ''"}, "BadRequest"),
        ({"$filter": "result eq 'maybe'"}, "BadRequest"),
        ({"$filter": "id eq 42"}, "BadRequest"),
        ({"$filter": ""}, "BadRequest"),
        ({"$filter": "id eq 'x' and " * 40 + "id eq 'x'"}, "BadRequest"),
        ({"$filter": "x" * 5000}, "BadRequest"),
        ({"$top": "0"}, "BadRequest"),
        ({"$top": "1001"}, "BadRequest"),
        ({"$top": "ten"}, "BadRequest"),
        ({"$orderby": "activityDisplayName"}, "Request_UnsupportedQuery"),
        ({"$orderby": "activityDateTime sideways"}, "Request_UnsupportedQuery"),
        ({"$select": "id"}, "Request_UnsupportedQuery"),
        ({"$count": "true"}, "Request_UnsupportedQuery"),
        ({"$skiptoken": "not-a-token"}, "BadRequest"),
        ({"$fitler": "id eq 'x'"}, "BadRequest"),
        ({"format": "csv"}, "Request_UnsupportedQuery"),  # $format, without its $
        ({"page_size": "5"}, "BadRequest"),
    ],
)
def test_a_query_it_cannot_answer_is_400_in_graph_form(graph, six_events, query, code):
    error = graph_error(graph.get(V1_LIST, query), 400)
    assert error["code"] == code
    assert error["message"]


def test_a_skiptoken_cut_for_the_other_order_is_refused(graph, six_events):
    next_link = graph.get(V1_LIST, {"$top": "2"}).json()["@odata.nextLink"]
    token = parse_qs(urlsplit(next_link).query)["$skiptoken"][0]
    response = graph.get(V1_LIST, {"$skiptoken": token, "$orderby": "activityDateTime asc"})
    assert graph_error(response, 400)["code"] == "BadRequest"


def test_a_repeated_option_is_refused(graph, six_events):
    response = graph.get(f"{V1_LIST}?$top=1&$top=2")
    assert graph_error(response, 400)["code"] == "BadRequest"


def test_option_names_in_any_case_and_without_dollar(graph, six_events):
    assert len(served_ids(graph.get(V1_LIST, {"$TOP": "2"}))) == 2
    assert len(served_ids(graph.get(V1_LIST, {"top": "3"}))) == 3


def test_anonymous_is_401_asking_for_a_bearer_token(six_events):
    response = APIClient().get(V1_LIST)
    error = graph_error(response, 401)
    assert error["code"] == "InvalidAuthenticationToken"
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Bearer ", "Bearer a b"])
def test_a_bad_token_is_401(six_events, header):
    response = APIClient().get(V1_LIST, HTTP_AUTHORIZATION=header)
    assert graph_error(response, 401)["code"] == "InvalidAuthenticationToken"


def test_an_expired_token_is_401(six_events, django_user_model):
    user = django_user_model.objects.create_user("expired")
    user.groups.add(Group.objects.get(name=COMPLIANCE_ADMINISTRATOR))
    token = AuthToken.objects.create(user, expiry=timedelta(seconds=-1))[1]
    response = APIClient().get(V1_LIST, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert graph_error(response, 401)["code"] == "InvalidAuthenticationToken"


def test_a_session_is_not_a_bearer_token(six_events, admin_client):
    assert admin_client.get(V1_LIST).status_code == 401


@pytest.mark.parametrize("role", [None, INGESTION_SERVICE])
def test_a_token_without_the_reader_role_is_403(six_events, django_user_model, role):
    user = django_user_model.objects.create_user("no-reader")
    if role:
        user.groups.add(Group.objects.get(name=role))
    token = AuthToken.objects.create(user)[1]
    response = APIClient().get(V1_LIST, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert graph_error(response, 403)["code"] == "Authorization_RequestDenied"


@pytest.mark.parametrize("role", [AUDIT_EXPORTER, COMPLIANCE_ADMINISTRATOR])
def test_roles_above_the_reader_may_read(six_events, django_user_model, role):
    user = django_user_model.objects.create_user("above")
    user.groups.add(Group.objects.get(name=role))
    token = AuthToken.objects.create(user)[1]
    response = APIClient().get(V1_LIST, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert len(served_ids(response)) == 6


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_endpoint_is_read_only(graph, six_events, method):
    response = getattr(graph, method)(V1_LIST, {}, format="json")
    assert graph_error(response, 405)["code"]
    assert AuditEvent.objects.count() == 6


def test_every_answered_request_is_in_the_access_trail(graph, six_events):
    graph.get(
        V1_LIST,
        {"$top": "4", "$filter": "category eq 'GroupManagement'"},
        HTTP_USER_AGENT="script/1.0",
        REMOTE_ADDR="198.51.100.7",
    )
    graph.get(f"{V1_LIST}/no-such-id")
    graph.get(V1_LIST, {"$top": "0"})
    APIClient().get(V1_LIST)  # refused before it was read: not recorded
    records = list(AccessRecord.objects.filter(action=AccessRecord.Action.QUERY).order_by("id"))
    assert [(r.username, r.detail["status"], r.row_count) for r in records] == [
        ("graph-reader", 200, 2),
        ("graph-reader", 404, 0),
        ("graph-reader", 400, 0),
    ]
    first = records[0]
    assert first.detail["via"] == "graph" and first.detail["version"] == "v1.0"
    assert first.detail["query"] == {"$top": "4", "$filter": "category eq 'GroupManagement'"}
    assert (first.remote_address, first.user_agent) == ("198.51.100.7", "script/1.0")
    assert records[1].detail["error"] == "Request_ResourceNotFound"


def test_client_request_id_is_echoed(graph, six_events):
    response = graph.get(V1_LIST, HTTP_CLIENT_REQUEST_ID="5d9f8a1c-0000-4000-8000-000000000001")
    assert response["client-request-id"] == "5d9f8a1c-0000-4000-8000-000000000001"
    assert response["request-id"]


def test_dates_filter_at_the_stored_microsecond(graph, db):
    moment = datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
    event = AuditEventFactory(activity_datetime=moment)
    for operator, expected in [
        ("eq", [event.entra_id]),
        ("ge", [event.entra_id]),
        ("le", [event.entra_id]),
        ("gt", []),
        ("lt", []),
    ]:
        response = graph.get(
            V1_LIST, {"$filter": f"activityDateTime {operator} 2026-05-01T12:00:00.1234567Z"}
        )
        assert served_ids(response) == expected, operator


@pytest.fixture
def low_rates(monkeypatch):
    """Low rates for this test only (see tests/api/test_throttling.py), fresh counters."""
    from django.core.cache import cache
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "1/minute", "user": "2/minute"}
    )
    cache.clear()
    yield
    cache.clear()


def test_over_the_rate_is_429_with_retry_after(graph, six_events, low_rates):
    for _ in range(2):
        assert graph.get(V1_LIST).status_code == 200
    response = graph.get(V1_LIST)
    assert graph_error(response, 429)["code"] == "TooManyRequests"
    assert 0 < int(response["Retry-After"]) <= 60


def test_anonymous_probing_is_rate_limited_too(six_events, low_rates):
    assert APIClient().get(V1_LIST).status_code == 401
    response = APIClient().get(V1_LIST)
    assert graph_error(response, 429)["code"] == "TooManyRequests"
    assert int(response["Retry-After"]) > 0


def test_the_graph_routes_leave_every_other_url_reversible():
    from django.urls import reverse

    assert reverse("api:event-list") == "/api/v1/events/"
    assert reverse("admin:index") == "/admin/"
    assert (
        reverse("graph:list", kwargs={"version": "v1.0", "collection": "auditLogs/directoryAudits"})
        == V1_LIST
    )


def test_null_characters_are_refused_and_recorded_written_out(graph, six_events):
    """PostgreSQL stores no null character: a request holding one is refused, and its access
    record keeps what it asked for with the character written out."""
    response = graph.get(V1_LIST, {"$filter": "id eq 'a\x00b'"}, HTTP_USER_AGENT="agent\x00x")
    assert graph_error(response, 400)["code"] == "BadRequest"
    assert graph_error(graph.get(f"{V1_LIST}/a%00b"), 400)["code"] == "BadRequest"
    first, second = AccessRecord.objects.filter(action=AccessRecord.Action.QUERY).order_by("id")
    assert first.detail["query"] == {"$filter": "id eq 'a\\x00b'"}
    assert first.user_agent == "agent\\x00x"
    assert second.detail["path"] == f"{V1_LIST}/a\\x00b"


def test_the_access_record_of_a_refused_request_is_bounded(graph, six_events):
    query = {f"p{number}": "v" * 5000 for number in range(50)}
    assert graph_error(graph.get(V1_LIST, query), 400)["code"] == "BadRequest"
    record = AccessRecord.objects.get(action=AccessRecord.Action.QUERY)
    assert len(record.detail["query"]) == 20
    assert all(len(value) == 2000 for value in record.detail["query"].values())
