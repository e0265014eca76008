"""Microsoft's own client, msgraph-sdk, against the Graph-compatible endpoint on a live test
server: every documented $filter form, $top, $orderby both ways, paging with PageIterator, get
by id, and the errors (400 as ODataError with Graph's code, 401, 429 with Retry-After). Every
SDK result is compared with the events the same filter selects at /api/v1/events/.

The SDK's retries are off (it would retry a 429 three times, honouring Retry-After).
"""

import asyncio
import json
import threading
from datetime import UTC, datetime

import httpx
import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_http.middleware.options import RetryHandlerOption
from knox.models import AuthToken
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.audit_logs.directory_audits.directory_audits_request_builder import (
    DirectoryAuditsRequestBuilder,
)
from msgraph.generated.models.directory_audit_collection_response import (
    DirectoryAuditCollectionResponse,
)
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.operation_result import OperationResult
from msgraph_core import GraphClientFactory
from msgraph_core.tasks.page_iterator import PageIterator
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from logs.ingest.importer import import_file
from logs.models import AuditEvent
from logs.roles import AUDIT_READER, apply_roles
from tests.factories import GraphDirectoryAuditFactory
from tests.graph.test_api_agreement import FORMS, api_ids
from tests.support import FIXTURES_DIR, SIX_EVENTS_FILE

QueryParameters = DirectoryAuditsRequestBuilder.DirectoryAuditsRequestBuilderGetQueryParameters


class StaticTokenProvider(AccessTokenProvider):
    """The API token as the bearer token, for the test server's host only (the SDK sends no
    Authorization header to a host outside the list, silently)."""

    def __init__(self, token: str, hosts: list[str]):
        self.token = token
        self.hosts = AllowedHostsValidator(hosts)

    async def get_authorization_token(self, uri, additional_authentication_context=None):
        return self.token if self.hosts.is_url_host_valid(uri) else ""

    def get_allowed_hosts_validator(self):
        return self.hosts


class Sdk:
    """A GraphServiceClient pointed at the test server, its calls run on an event loop of its
    own in a thread of its own: its HTTP connections belong to the loop that opened them, and
    the test's thread may already run a loop (Playwright's, when the browser tests ran)."""

    def __init__(self, base_url: str, token: str, version: str = "v1.0"):
        no_retries = {RetryHandlerOption.get_key(): RetryHandlerOption(max_retries=0)}
        # No kept-alive connections: the test server would close one after the test ended,
        # from a thread no longer allowed to touch the test's in-memory SQLite database.
        connections = httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0))
        self.http_client = GraphClientFactory.create_with_default_middleware(
            client=connections, options=no_retries
        )
        provider = StaticTokenProvider(token, ["127.0.0.1", "localhost"])
        adapter = GraphRequestAdapter(
            BaseBearerTokenAuthenticationProvider(provider), self.http_client
        )
        adapter.base_url = f"{base_url}/graph/{version}"  # no trailing slash
        self.client = GraphServiceClient(request_adapter=adapter)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    def close(self) -> None:
        self.run(self.http_client.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()

    def list(self, **query) -> DirectoryAuditCollectionResponse:
        config = RequestConfiguration(query_parameters=QueryParameters(**query))
        audits = self.client.audit_logs.directory_audits
        return self.run(audits.get(request_configuration=config))

    def get(self, audit_id: str):
        audits = self.client.audit_logs.directory_audits
        return self.run(audits.by_directory_audit_id(audit_id).get())

    def every_page(self, **query) -> tuple[list, int]:
        """Every record through PageIterator, and the number of pages it read."""
        first = self.list(**query)
        records, pages = [], [first]

        def collect(record) -> bool:
            records.append(record)
            return True  # PageIterator stops unless its callback says to go on

        iterator = PageIterator(
            first, self.client.request_adapter, error_mapping={"XXX": ODataError}
        )
        read_next = iterator.next

        async def counted_next():
            page = await read_next()
            if page is not None:
                pages.append(page)
            return page

        iterator.next = counted_next
        self.run(iterator.iterate(collect))
        return records, len(pages)


@pytest.fixture
def sdk_for(live_server):
    made = []

    def make(token: str, version: str = "v1.0") -> Sdk:
        made.append(Sdk(live_server.url, token, version))
        return made[-1]

    yield make
    for sdk in made:
        sdk.close()


@pytest.fixture
def token(transactional_db, django_user_model) -> str:
    # A live server needs committed data, so these tests flush the database after each one,
    # taking the role groups the migrations made with it.
    apply_roles(Group, Permission)
    user = django_user_model.objects.create_user("sdk-reader")
    user.groups.add(Group.objects.get(name=AUDIT_READER))
    return AuthToken.objects.create(user)[1]


@pytest.fixture
def archive(transactional_db, tmp_path) -> int:
    """The six sample events, the published Graph records, and 40 generated ones."""
    assert import_file(SIX_EVENTS_FILE).new == 6
    for name in ["graph-docs-list-example1.json", "graph-beta-docs-list-example1.json"]:
        assert import_file(FIXTURES_DIR / "graph" / name).new == 1
    generated = tmp_path / "generated.json"
    generated.write_text(json.dumps({"value": [GraphDirectoryAuditFactory() for _ in range(40)]}))
    assert import_file(generated).new == 40
    return AuditEvent.objects.count()


@pytest.fixture
def client(sdk_for, token, archive) -> Sdk:
    return sdk_for(token)


@pytest.fixture
def api(admin_user) -> APIClient:
    api = APIClient()
    api.force_login(admin_user)
    return api


def newest_first() -> list[str]:
    events = AuditEvent.objects.order_by("-activity_datetime", "-id")
    return list(events.values_list("entra_id", flat=True))


def test_list_all_reads_every_field(client, archive):
    response = client.list(top=1000)
    assert [record.id for record in response.value] == newest_first()
    assert response.odata_next_link is None
    record = next(r for r in response.value if r.id == "id")  # v1.0 docs, example 1
    # Microsoft's documented example, read back by Microsoft's client.
    assert record.activity_date_time == datetime(2018, 1, 9, 21, 20, 2, 721537, tzinfo=UTC)
    assert record.result == OperationResult.Success
    assert record.logged_by_service == "Core Directory"
    assert record.initiated_by.user.user_principal_name == "bob@wingtiptoysonline.com"
    assert record.initiated_by.app is None
    group, user = record.target_resources
    assert (group.type, user.type) == ("Group", "User")  # "Type" in the stored original
    assert group.modified_properties[0].new_value == "DirectorySync"
    assert user.user_principal_name == "bob@contoso.com"
    assert record.additional_details[0].key == "Additional Detail Name"


def test_each_filter_form_selects_what_the_api_selects(client, api):
    # One test for all forms: a live server's data is flushed after every test, which costs
    # more than the requests themselves.
    for graph_filter, params in FORMS:
        records, _ = client.every_page(filter=graph_filter, top=5)
        assert [record.id for record in records] == api_ids(api, params), graph_filter
        assert records, graph_filter


def test_top_and_paging_over_many_pages(client, api, archive):
    records, pages = client.every_page(top=9)
    assert [record.id for record in records] == newest_first() == api_ids(api, {})
    assert pages == -(-archive // 9) >= 3


def test_orderby_both_ways(client, api):
    for orderby, ordering in [("activityDateTime asc", "date"), ("activityDateTime desc", "-date")]:
        records, pages = client.every_page(orderby=[orderby], top=20)
        assert [record.id for record in records] == api_ids(api, {"ordering": ordering})
        assert pages >= 3


def test_get_by_id(client):
    event = AuditEvent.objects.get(
        activity__name="Reset password (self-service)", source_format="portal-json"
    )
    record = client.get(event.entra_id)
    assert record.id == event.entra_id
    assert record.result == OperationResult.Failure
    assert record.result_reason == "User's account is locked"
    assert record.target_resources[0].display_name == "山田 太郎"


def test_an_unknown_id_is_odata_error_404(client):
    with pytest.raises(ODataError) as raised:
        client.get("no-such-id")
    assert raised.value.response_status_code == 404
    assert raised.value.error.code == "Request_ResourceNotFound"


REFUSED = [
    ({"filter": "operationType eq 'Add'"}, "Request_UnsupportedQuery"),
    ({"filter": "activityDisplayName eq 'a' or id eq 'b'"}, "Request_UnsupportedQuery"),
    ({"filter": "activityDateTime ge yesterday"}, "BadRequest"),
    ({"top": 5000}, "BadRequest"),
    ({"orderby": ["activityDisplayName"]}, "Request_UnsupportedQuery"),
    ({"select": ["id"]}, "Request_UnsupportedQuery"),
]


def test_a_query_it_cannot_answer_is_odata_error_400(client):
    for query, code in REFUSED:
        with pytest.raises(ODataError) as raised:
            client.list(**query)
        assert raised.value.response_status_code == 400, query
        assert raised.value.error.code == code, query
        assert raised.value.error.message, query


def test_without_a_token_401(sdk_for, archive):
    client = sdk_for(token="")
    with pytest.raises(ODataError) as raised:
        client.list()
    assert raised.value.response_status_code == 401
    assert raised.value.error.code == "InvalidAuthenticationToken"


def test_over_the_rate_429_with_retry_after(client, monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "1/minute", "user": "1/minute"}
    )
    cache.clear()
    try:
        client.list(top=1)
        with pytest.raises(ODataError) as raised:
            client.list(top=1)
    finally:
        cache.clear()
    assert raised.value.response_status_code == 429
    assert raised.value.error.code == "TooManyRequests"
    headers = {name.lower(): value for name, value in raised.value.response_headers.items()}
    assert 0 < int(headers["retry-after"]) <= 60


def test_beta_is_read_by_the_same_client(sdk_for, token, archive):
    client = sdk_for(token, version="beta")
    records, _ = client.every_page(filter="category eq 'UserManagement'", top=3)
    assert records
    assert all(record.category == "UserManagement" for record in records)
    update_user = next(
        r for r in records if r.activity_display_name == "Update user" and r.additional_data
    )
    assert "userAgent" in update_user.additional_data  # beta's property, unknown to v1.0 models
