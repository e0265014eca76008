"""Collection from a Graph-compatible endpoint with the real msgraph-sdk: a live auditportal
holding known events, behind a loopback proxy that throttles, fails, drops connections and
corrupts a record. What is stored must be exactly the origin's events, each once."""

import pytest

from logs.collection.collect import collect_source
from logs.collection.graph_source import StaticTokenProvider
from logs.models import AccessRecord, AuditEvent, CollectionSource, ImportBatch

pytestmark = pytest.mark.django_db


def stored_ids() -> list[str]:
    return sorted(AuditEvent.objects.values_list("entra_id", flat=True))


@pytest.fixture
def graph_source(proxy, origin, monkeypatch, collection_settings):
    monkeypatch.setenv("ORIGIN_TOKEN", origin.token)
    return CollectionSource.objects.create(
        name="regional", kind="graph", url=f"{proxy.url}/graph/v1.0", token_env="ORIGIN_TOKEN"
    )


def test_collects_every_event_once_and_records_the_run(graph_source, origin, proxy):
    result = collect_source(graph_source, username="ops")
    assert result.ok, result.errors
    assert stored_ids() == sorted(origin.ids)
    assert (result.read, result.new, result.duplicate) == (len(origin.ids), len(origin.ids), 0)
    assert result.pages == -(-len(origin.ids) // 50)
    source = CollectionSource.objects.get(pk=graph_source.pk)
    newest = AuditEvent.objects.order_by("-activity_datetime").first().activity_datetime
    assert source.watermark == source.newest_event_at == newest
    assert source.last_success_at is not None and source.last_error == ""
    batch = ImportBatch.objects.get(collection_source=source)
    assert batch.status == ImportBatch.Status.COMPLETED
    assert (batch.records_read, batch.records_new) == (len(origin.ids), len(origin.ids))
    assert set(AuditEvent.objects.values_list("import_batch", flat=True)) == {batch.pk}
    assert batch.window_start is not None and batch.format == "graph"
    trail = AccessRecord.objects.get(action=AccessRecord.Action.COLLECT)
    assert trail.detail["source"] == "regional" and trail.row_count == len(origin.ids)
    assert origin.token not in str(trail.detail) and origin.token not in batch.error
    # Every request asked from the back-fill start, ascending, $top as configured.
    first = proxy.seen[0].path
    assert "activityDateTime%20ge%20" in first and "$top=50" in first
    assert "activityDateTime%20asc" in first


def test_a_second_run_asks_from_the_watermark_minus_the_overlap(graph_source, origin, proxy):
    assert collect_source(graph_source).ok
    proxy.seen.clear()
    again = collect_source(graph_source)
    assert again.ok, again.errors
    # The overlap (15 minutes, one event a minute) is read again and found stored.
    assert again.new == 0
    assert 15 <= again.duplicate <= 17
    assert len(proxy.seen) == 1
    assert stored_ids() == sorted(origin.ids)


def test_throttling_and_failures_are_waited_out(graph_source, origin, proxy):
    proxy.plan = ["", "429", "", "503", "drop", ""]
    result = collect_source(graph_source)
    assert result.ok, result.errors
    assert result.waits == 3
    assert stored_ids() == sorted(origin.ids)
    statuses = [(seen.status, seen.fault) for seen in proxy.seen[:6]]
    assert statuses[1] == (429, "429") and statuses[3] == (503, "503")
    # The request after each fault is the same request again.
    assert proxy.seen[2].path == proxy.seen[1].path
    assert proxy.seen[5].path == proxy.seen[4].path == proxy.seen[3].path


def test_an_empty_page_with_a_next_link_is_followed(graph_source, origin, proxy):
    # msgraph-sdk's PageIterator would stop here, before the end.
    proxy.plan = ["", "empty"]
    result = collect_source(graph_source)
    assert result.ok, result.errors
    assert proxy.seen[1].fault == "empty" and proxy.seen[2].path == proxy.seen[1].path
    assert stored_ids() == sorted(origin.ids)


def test_pages_that_repeat_for_ever_end_the_run_after_storing_what_was_read(
    graph_source, origin, proxy
):
    proxy.otherwise = "loop"
    result = collect_source(graph_source)
    assert not result.ok
    assert "page 3: the address page 2 was read from answered the same again" in (result.errors[0])
    # Three requests, the same page each time: stored once, twice a duplicate.
    assert len(proxy.seen) == 3
    assert result.new > 0 and result.duplicate == 2 * result.new


def test_a_next_link_that_is_not_http_is_refused_before_it_is_sent(graph_source, proxy):
    proxy.otherwise = "file"
    result = collect_source(graph_source)
    assert not result.ok
    assert (
        "page 1: its @odata.nextLink is not an http(s) address: 'file:///etc/passwd'"
        in (result.errors[0])
    )
    assert len(proxy.seen) == 1 and result.new > 0


def test_retry_after_is_honoured_before_the_request_is_sent_again(graph_source, proxy):
    proxy.retry_after = "2"
    proxy.plan = ["429"]
    assert collect_source(graph_source).ok
    # Not a speed target: the retried request must not come before the time the source asked.
    assert proxy.seen[1].at - proxy.seen[0].at >= 2


def test_a_source_that_keeps_failing_stops_the_run_and_keeps_its_pages(graph_source, proxy):
    proxy.plan = ["", "", "503", "503", "503", "503"]  # the third page, four times
    result = collect_source(graph_source)
    assert not result.ok
    assert "regional, page 3: the source answered HTTP 503" in result.errors[0]
    assert AuditEvent.objects.count() == 100
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.STOPPED
    source = CollectionSource.objects.get(pk=graph_source.pk)
    assert source.last_error.startswith("regional, page 3")
    assert source.last_success_at is None


def test_a_bad_record_stops_its_page_and_the_next_run_retries(graph_source, origin, proxy):
    proxy.plan = ["", "bad"]
    first = collect_source(graph_source)
    assert not first.ok and first.rejected == 1
    assert "regional, page 2, record 25, field activityDateTime" in first.errors[0]
    # Nothing of the bad page was stored, and the watermark is the first page's newest.
    assert AuditEvent.objects.count() == 50
    watermark = CollectionSource.objects.get(pk=graph_source.pk).watermark
    assert watermark == AuditEvent.objects.order_by("-activity_datetime")[0].activity_datetime
    second = collect_source(CollectionSource.objects.get(pk=graph_source.pk))
    assert second.ok, second.errors
    assert stored_ids() == sorted(origin.ids)


def test_requests_keep_under_the_configured_rate(graph_source, proxy, settings):
    settings.AUDITPORTAL_COLLECTION_GRAPH_RATE = "2/1"
    settings.AUDITPORTAL_COLLECTION_PAGE_SIZE = 60
    assert collect_source(graph_source).ok
    times = [seen.at for seen in proxy.seen]
    assert len(times) == 4
    # No second holds more than two requests.
    assert all(later - earlier >= 1 for earlier, later in zip(times, times[2:], strict=False))


def test_an_entra_source_through_an_injected_token_provider(proxy, origin, collection_settings):
    # msal refuses http:// authorities, so azure-identity cannot reach a test server: the
    # source's credential is replaced by a token provider, everything else is the real path.
    source = CollectionSource.objects.create(
        name="contoso",
        kind="entra",
        tenant_id="11111111-2222-4333-8444-555555555555",
        client_id="22222222-3333-4444-8555-666666666666",
        client_secret_env="CONTOSO_SECRET",
        url=f"{proxy.url}/graph/v1.0",
    )
    provider = StaticTokenProvider(origin.token, ["127.0.0.1"])
    result = collect_source(source, token_provider=provider)
    assert result.ok, result.errors
    assert stored_ids() == sorted(origin.ids)


def test_a_missing_secret_fails_the_run_naming_the_variable(graph_source, monkeypatch):
    monkeypatch.delenv("ORIGIN_TOKEN")
    result = collect_source(graph_source)
    assert result.errors == [
        "Source regional: the environment variable ORIGIN_TOKEN is not set; it must hold the "
        "bearer token."
    ]
    assert ImportBatch.objects.get().status == ImportBatch.Status.FAILED


def test_an_entra_source_takes_its_secret_from_the_environment(monkeypatch, tmp_path):
    from azure.identity.aio import CertificateCredential, ClientSecretCredential

    from logs.collection.sources import SourceConfigError, entra_credential

    source = CollectionSource(
        name="t", kind="entra", tenant_id="tenant", client_id="app", client_secret_env="APP_SECRET"
    )
    with pytest.raises(SourceConfigError, match="APP_SECRET is not set"):
        entra_credential(source)
    monkeypatch.setenv("APP_SECRET", "s3cret")
    assert isinstance(entra_credential(source), ClientSecretCredential)
    source.client_secret_env, source.certificate_path = "", str(tmp_path / "missing.pem")
    with pytest.raises(SourceConfigError, match="cannot read the certificate file"):
        entra_credential(source)
    assert "s3cret" not in source.secret_reference()
    assert CertificateCredential  # the other credential the certificate path builds


def test_the_command_backfills_from_since(graph_source, origin, proxy):
    from io import StringIO

    from django.core.management import call_command

    output = StringIO()
    call_command("collect_audit_logs", "--source", "regional", "--since", "2026-01-02T03:04Z",
                 stdout=output)  # fmt: skip
    assert "activityDateTime%20ge%202026-01-02T03%3A04%3A00Z" in proxy.seen[0].path
    assert f"regional [graph]: {len(origin.ids)} read, {len(origin.ids)} new" in output.getvalue()
    run = ImportBatch.objects.get()
    assert run.window_start.isoformat() == "2026-01-02T03:04:00+00:00"


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--every", "5 minutes"], "--every takes a duration"),
        (["--since", "last week"], "--since takes an ISO date"),
        (["--since", "2999-01-01"], "is in the future"),
        (["--source", "nowhere"], "No collection source named 'nowhere'"),
    ],
)
def test_bad_options_are_refused_naming_them(graph_source, arguments, message):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=message):
        call_command("collect_audit_logs", *arguments)
    assert not ImportBatch.objects.exists()
