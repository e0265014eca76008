"""Collecting from Microsoft Graph (``auditLogs/directoryAudits``) or a Graph-compatible
endpoint, with Microsoft's own client, msgraph-sdk.

A run asks for ``activityDateTime ge <watermark - overlap>`` in ascending order, ``$top`` at a
time, and follows ``@odata.nextLink`` itself: the SDK's PageIterator stops at an empty page,
which Graph may send before the end. Pages are read as the bytes Graph sent (the SDK's request
builder, authentication, middleware and error mapping, without its model classes), so each
record is parsed and kept exactly as an imported Graph file's is.

Retries are ours, not the SDK's RetryHandler: a 429, 503 or 504 is sent again after its
Retry-After (an HTTP date too), and a connection dropped mid-page after a short pause, each
counted in the run; the handler would hide both. Requests are spaced to stay under Graph's
documented limit for the audit log (AUDITPORTAL_COLLECTION_GRAPH_RATE, per app and tenant),
and every wait is cut short when the collector is asked to stop.
"""

import asyncio
import collections
import email.utils
import hashlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
import orjson
from django.utils import timezone
from kiota_abstractions.api_error import APIError
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_http.middleware.options import RetryHandlerOption
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.audit_logs.directory_audits.directory_audits_request_builder import (
    DirectoryAuditsRequestBuilder,
)
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph_core import GraphClientFactory

from logs.collection import sources
from logs.collection.runs import CollectionError, CollectionRun
from logs.ingest.pushed import BodyError, ParsedBody, parse_body
from logs.models import CollectionSource

QueryParameters = DirectoryAuditsRequestBuilder.DirectoryAuditsRequestBuilderGetQueryParameters
RETRIED_STATUSES = {429, 503, 504}
# A page holds at most $top records; a source that sends more is read all the same, up to this.
MOST_RECORDS_A_PAGE = 100_000
ERRORS = {"XXX": ODataError}


class StaticTokenProvider(AccessTokenProvider):
    """A bearer token for the source's host only (a nextLink to another host gets none)."""

    def __init__(self, token: str, hosts: list[str]):
        self.token = token
        self.hosts = AllowedHostsValidator(hosts)

    async def get_authorization_token(self, uri, additional_authentication_context=None):
        return self.token if self.hosts.is_url_host_valid(uri) else ""

    def get_allowed_hosts_validator(self):
        return self.hosts


class RateLimiter:
    """At most ``rate.requests`` requests in any ``rate.seconds``, per key (app and tenant),
    across the runs of this process."""

    _sent: dict[str, collections.deque] = collections.defaultdict(collections.deque)
    _lock = threading.Lock()

    # Graph counts requests as they arrive, and a request sent in time may arrive after one
    # sent later: the window is kept a tenth longer than the limit's.
    MARGIN = 1.1

    def __init__(self, key: str, rate: sources.Rate, wait):
        self.key, self.rate, self.wait = key, rate, wait
        self.window = rate.seconds * self.MARGIN

    def wait_for_a_slot(self) -> None:
        while True:
            with self._lock:
                sent = self._sent[self.key]
                now = time.monotonic()
                while sent and now - sent[0] >= self.window:
                    sent.popleft()
                if len(sent) < self.rate.requests:
                    sent.append(now)
                    return
                delay = self.window - (now - sent[0])
            if self.wait(delay):
                raise Stopped


class Stopped(Exception):
    """The collector was asked to stop (SIGTERM) while it waited."""


def retry_after_seconds(headers: dict | None, default: float) -> float:
    """Retry-After as seconds (a number or an HTTP date), else ``default``; never negative."""
    value = {k.lower(): v for k, v in (headers or {}).items()}.get("retry-after")
    if value is None:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


class GraphPages:
    """The SDK's client for one source, on an event loop of its own in a thread of its own:
    the collector's thread keeps to the database (Django's ORM is synchronous), the loop to
    HTTP."""

    def __init__(self, source: CollectionSource, *, token_provider=None, stop=None):
        self.source = source
        self.stop = stop or threading.Event()
        # Set when the run ends: a request fetched ahead stops waiting for its turn or retry.
        self.ended = threading.Event()
        self.base_url = sources.graph_base_url(source)
        host = urlsplit(self.base_url).hostname or ""
        self.credential = None
        if token_provider is None and source.kind == CollectionSource.Kind.GRAPH:
            token = sources.secret_from_environment(source, source.token_env, "bearer token")
            token_provider = StaticTokenProvider(token, [host])
        if token_provider is not None:
            authentication = BaseBearerTokenAuthenticationProvider(token_provider)
        else:
            from kiota_authentication_azure.azure_identity_authentication_provider import (
                AzureIdentityAuthenticationProvider,
            )

            self.credential = sources.entra_credential(source)
            origin = f"{urlsplit(self.base_url).scheme}://{host}"
            authentication = AzureIdentityAuthenticationProvider(
                self.credential, scopes=[f"{origin}/.default"], allowed_hosts=[host]
            )
        key = source.tenant_id or host
        self.limiter = RateLimiter(f"{key}|{source.client_id}", sources.graph_rate(), self._wait)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        no_retries = {RetryHandlerOption.get_key(): RetryHandlerOption(max_retries=0)}
        self.http = GraphClientFactory.create_with_default_middleware(
            client=httpx.AsyncClient(timeout=httpx.Timeout(120, connect=20)), options=no_retries
        )
        adapter = GraphRequestAdapter(authentication, self.http)
        adapter.base_url = self.base_url
        self.adapter = adapter
        self.client = GraphServiceClient(request_adapter=adapter)
        self.waits = 0

    def stop_waiting(self) -> None:
        self.ended.set()

    def _wait(self, seconds: float) -> bool:
        """Wait, or return True at once when the collector stops or the run has ended."""
        deadline = time.monotonic() + seconds
        while not (self.stop.is_set() or self.ended.is_set()):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.stop.wait(min(left, 0.2))
        return True

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def close(self) -> None:
        async def close_all():
            await self.http.aclose()
            if self.credential is not None:
                await self.credential.close()

        try:
            self._run(close_all())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)
            self.loop.close()

    def first(self, start: datetime, top: int) -> bytes:
        moment = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        query = QueryParameters(
            filter=f"activityDateTime ge {moment}",
            orderby=["activityDateTime asc"],
            top=top,
        )
        builder = self.client.audit_logs.directory_audits
        return self._send(
            lambda: builder.to_get_request_information(RequestConfiguration(query_parameters=query))
        )

    def following(self, next_link: str) -> bytes:
        builder = self.client.audit_logs.directory_audits.with_url(next_link)
        return self._send(builder.to_get_request_information)

    def _send(self, request) -> bytes:
        attempt = 0
        while True:
            self.limiter.wait_for_a_slot()
            try:
                content = self._run(self.adapter.send_primitive_async(request(), "bytes", ERRORS))
                return content or b""
            except APIError as error:
                if (
                    error.response_status_code not in RETRIED_STATUSES
                    or attempt >= sources.retries()
                ):
                    raise
                delay = retry_after_seconds(error.response_headers, default=2.0**attempt)
            except httpx.TransportError:
                if attempt >= sources.retries():
                    raise
                delay = 2.0**attempt
            attempt += 1
            self.waits += 1
            if self._wait(min(delay, sources.longest_wait())):
                raise Stopped


class _LoopCheck:
    """Whether a run's pages go round in a circle. Graph may answer an empty page whose
    nextLink asks again, so a link followed twice is not wrong in itself; the same address
    answering the same bytes again is, and would be read for ever. A link followed
    ``MAX_FOLLOWS`` times is refused whatever it answers."""

    MAX_FOLLOWS = 100

    def __init__(self):
        self.answers: dict[tuple[str | None, bytes], int] = {}
        self.follows: dict[str, int] = {}

    def refusal(self, link: str | None, content: bytes, next_link: str | None, number: int):
        """Why the page ``number`` (read from ``link``, None for the first) ends the run, or
        None."""
        answer = (link, hashlib.sha256(content).digest())
        if answer in self.answers:
            return (
                f"the address page {self.answers[answer]} was read from answered the same "
                "again; the pages would repeat without end. What was read so far is stored"
            )
        self.answers[answer] = number
        if next_link is None:
            return None
        if urlsplit(next_link).scheme.lower() not in ("http", "https"):
            return f"its @odata.nextLink is not an http(s) address: {next_link[:200]!r}"
        self.follows[next_link] = self.follows.get(next_link, 0) + 1
        if self.follows[next_link] > self.MAX_FOLLOWS:
            return (
                f"its @odata.nextLink has been given {self.MAX_FOLLOWS} times; the pages would "
                "repeat without end. What was read so far is stored"
            )
        return None


def next_link_of(content: bytes) -> str | None:
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        return None
    link = body.get("@odata.nextLink") if isinstance(body, dict) else None
    return link if isinstance(link, str) and link else None


def describe_api_error(error: APIError) -> str:
    status = error.response_status_code
    detail = ""
    inner = getattr(error, "error", None)
    if inner is not None and getattr(inner, "code", None):
        detail = f" {inner.code}: {inner.message or ''}".rstrip()
    return f"the source answered HTTP {status}{detail}"


def collect_graph(
    source: CollectionSource,
    run: CollectionRun,
    *,
    since: datetime | None = None,
    token_provider=None,
    stop: threading.Event | None = None,
) -> None:
    """Read every page from the window's start to the end. Raises on the first page that
    cannot be read or stored (the run records why).

    The next page is requested and parsed while this one is stored (its nextLink is known
    before): the source's answer, the parsing and the database's work overlap. Requests stay one
    at a time and in order, and a page read ahead is dropped unstored if this one fails."""
    if since is not None:
        start = since
    elif source.watermark is not None:
        start = source.watermark - sources.overlap()
    else:
        start = timezone.now() - sources.backfill()
    run.requested_start = start
    pages = GraphPages(source, token_provider=token_provider, stop=stop)
    ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="graph-page")

    def read(next_link: str | None) -> tuple[bytes, ParsedBody | BodyError]:
        if next_link is None:
            content = pages.first(start, sources.page_size())
        else:
            content = pages.following(next_link)
        try:
            return content, parse_body(content, max_records=MOST_RECORDS_A_PAGE)
        except BodyError as error:
            return content, error

    where = "the first page"
    try:
        reading = ahead.submit(read, None)
        number = 1
        loops = _LoopCheck()
        link = None
        while True:
            content, parsed = reading.result()
            next_link = next_link_of(content)
            refusal = loops.refusal(link, content, next_link, number)
            reading = ahead.submit(read, next_link) if next_link and not refusal else None
            store_graph_page(run, parsed, where=f"page {number}")
            if refusal:
                raise CollectionError(f"{source.name}, page {number}: {refusal}")
            if reading is None or pages.stop.is_set():
                break
            link = next_link
            number += 1
            where = f"page {number}"
    except APIError as error:
        raise CollectionError(f"{source.name}, {where}: {describe_api_error(error)}") from None
    except httpx.TransportError as error:
        raise CollectionError(
            f"{source.name}, {where}: the connection failed: {type(error).__name__}: {error}"
        ) from None
    finally:
        pages.stop_waiting()
        ahead.shutdown(wait=True, cancel_futures=True)
        run.result.waits += pages.waits
        pages.close()


def store_graph_page(run: CollectionRun, parsed: ParsedBody | BodyError, *, where: str) -> None:
    name = run.source.name
    if isinstance(parsed, BodyError):
        raise run.refuse_page(0, 0, [f"{name}, {where}: {parsed}"])
    if parsed.errors:
        messages = [
            f"{name}, {where}, record {error.index}"
            + (f", field {error.field}" if error.field else "")
            + f": {error.message} (nothing of this page was stored; the next run retries it)"
            for error in parsed.errors
        ]
        raise run.refuse_page(parsed.received, parsed.error_count, messages)

    def advance(locked: CollectionSource) -> list[str]:
        newest = max((r.activity_datetime for r in parsed.records), default=None)
        if newest is not None and (locked.watermark is None or newest > locked.watermark):
            locked.watermark = newest
            return ["watermark"]
        return []

    run.store_page(parsed.records, advance, where=f"{name}, {where}")
