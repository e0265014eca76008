"""Collecting from the storage account a diagnostic setting archives the audit log to.

Azure Monitor writes ``insights-logs-auditlogs/tenantId=<id>/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json``,
one record per line, appending to the hour's blob as events arrive. Per blob, the byte offset
already stored is kept (CollectedBlob) and moved in the transaction that stores the lines before
it; a run reads only what was appended since, a chunk at a time, and leaves a last line without
its newline for the next run (Azure is still writing it).

New blobs are found by listing the day prefixes from the day before the newest blob seen (an
hour's blob may still grow after midnight) to today, under each tenant's prefix; a first run
lists from --since or the back-fill period.
"""

import re
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient
from django.utils import timezone

from logs.collection import sources
from logs.collection.graph_source import Stopped
from logs.collection.runs import CollectionError, CollectionRun
from logs.ingest.errors import ImportFileError, RecordError
from logs.ingest.formats import azure_monitor
from logs.ingest.pushed import BodyInput
from logs.models import CollectedBlob, CollectionSource

BLOB_DATE = re.compile(r"(?:^|/)y=(\d{4})/m=(\d{2})/d=(\d{2})/h=(\d{2})/")
TENANT_PREFIX = "tenantId="
# A line longer than a chunk is read in larger and larger pieces, up to this.
LONGEST_LINE_BYTES = 64 * 2**20


def service_client(source: CollectionSource) -> BlobServiceClient:
    """The account's client: a connection string, a SAS token or the account key, from the
    environment variable the source names."""
    value = sources.secret_from_environment(
        source, source.credential_env, "storage account's key, a SAS token or a connection string"
    )
    options = {"connection_timeout": 20, "read_timeout": 120}
    if "AccountKey=" in value or "SharedAccessSignature=" in value or "EndpointSuffix=" in value:
        return BlobServiceClient.from_connection_string(value, **options)
    if "sig=" in value:
        return BlobServiceClient(source.account_url, credential=value.lstrip("?"), **options)
    return BlobServiceClient(
        source.account_url,
        credential={"account_name": account_name(source.account_url), "account_key": value},
        **options,
    )


def account_name(account_url: str) -> str:
    """``https://ACCOUNT.blob.core.windows.net``, or the emulator's ``http://host:port/ACCOUNT``."""
    parts = urlsplit(account_url)
    host = parts.hostname or ""
    if host == "localhost" or host.replace(".", "").isdigit():
        return parts.path.strip("/").split("/", 1)[0]
    return host.split(".", 1)[0]


def blob_day(name: str) -> date | None:
    found = BLOB_DATE.search(name)
    if not found:
        return None
    year, month, day, _hour = (int(part) for part in found.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


@dataclass
class ListedBlob:
    name: str
    size: int


def blobs_to_read(container, source: CollectionSource, since: datetime | None) -> list[ListedBlob]:
    """The hour blobs that may hold lines not stored yet, oldest first."""
    known = dict(source.blobs.values_list("name", "offset"))
    if source.tenant_id:
        tenants = [f"{TENANT_PREFIX}{source.tenant_id}/"]
    else:
        tenants = [
            item.name
            for item in container.walk_blobs(delimiter="/")
            if item.name.startswith(TENANT_PREFIX) and item.name.endswith("/")
        ]
    today = timezone.now().astimezone(UTC).date()
    listed = []
    for tenant in tenants:
        days = [blob_day(name) for name in known if name.startswith(tenant)]
        days = [day for day in days if day is not None]
        if since is not None:
            first = since.astimezone(UTC).date()
        elif days:
            first = max(days) - timedelta(days=1)
        else:
            first = (timezone.now() - sources.backfill()).astimezone(UTC).date()
        day = first
        while day <= today:
            prefix = f"{tenant}y={day:%Y}/m={day:%m}/d={day:%d}/"
            for blob in container.list_blobs(name_starts_with=prefix):
                if blob.name.endswith(".json") and blob.size > known.get(blob.name, 0):
                    listed.append(ListedBlob(blob.name, blob.size))
            day += timedelta(days=1)
    listed.sort(key=lambda blob: blob.name)
    return listed


def collect_storage(
    source: CollectionSource,
    run: CollectionRun,
    *,
    since: datetime | None = None,
    stop: threading.Event | None = None,
) -> None:
    stop = stop or threading.Event()
    container_name = source.container or sources.DEFAULT_CONTAINER
    where = f"container {container_name}"
    try:
        container = service_client(source).get_container_client(container_name)
        for blob in blobs_to_read(container, source, since):
            where = f"blob {blob.name}"
            read_blob(container, source, run, blob, stop)
            if stop.is_set():
                raise Stopped
    except ResourceNotFoundError:
        raise CollectionError(
            f"{source.name}: the {where} does not exist in {source.account_url}."
        ) from None
    except AzureError as error:
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise CollectionError(f"{source.name}, {where}: {first_line}") from None


def read_blob(container, source, run: CollectionRun, blob: ListedBlob, stop) -> None:
    """Store the complete lines appended to ``blob`` since its stored offset, a chunk a
    transaction."""
    stored = CollectedBlob.objects.filter(source=source, name=blob.name).first()
    offset = stored.offset if stored else 0
    chunk = sources.blob_chunk_bytes()
    client = container.get_blob_client(blob.name)
    while offset < blob.size and not stop.is_set():
        length = min(chunk, blob.size - offset)
        # The stored bytes, never unpacked: the Azure SDK would otherwise unpack a blob stored
        # with a Content-Encoding, and the offset, counted in unpacked bytes, would pass the
        # blob's size (counted in stored bytes) and skip whatever is appended later.
        download = client.download_blob(offset=offset, length=length, decompress=False)
        encoding = download.properties.content_settings.content_encoding
        if encoding and encoding.lower() != "identity":
            raise run.refuse_page(
                1,
                1,
                [
                    f"{source.name}, blob {blob.name}: stored with Content-Encoding {encoding}; "
                    "a diagnostic setting writes plain JSON lines. Nothing from it was stored"
                ],
            )
        data = download.readall()
        if len(data) > length:
            raise CollectionError(
                f"{source.name}, blob {blob.name} from byte {offset:,}: the storage account "
                f"answered {len(data):,} bytes for {length:,}; nothing from it was stored"
            )
        end = data.rfind(b"\n")
        if end < 0:
            if offset + length >= blob.size:
                return  # a last line Azure is still writing: the next run reads it whole
            if length >= LONGEST_LINE_BYTES:
                raise run.refuse_page(
                    1,
                    1,
                    [
                        f"{source.name}, blob {blob.name} from byte {offset:,}: a line longer "
                        f"than {LONGEST_LINE_BYTES // 2**20} MiB; nothing from this point of "
                        "the blob was stored"
                    ],
                )
            chunk *= 2
            continue
        complete = data[: end + 1]
        store_lines(run, source, blob.name, offset, complete)
        offset += len(complete)


def store_lines(run: CollectionRun, source, name: str, offset: int, content: bytes) -> None:
    where = f"{source.name}, blob {name} from byte {offset:,}"
    records, errors = [], []
    try:
        for item in azure_monitor.parse(BodyInput(content, name=name), "lines"):
            if isinstance(item, RecordError):
                errors.append(
                    f"{where}, {item.location}"
                    + (f", field {item.field}" if item.field else "")
                    + f": {item.message}"
                )
            else:
                records.append(item)
    except ImportFileError as error:
        errors.append(f"{where}: {error.message}")
    if errors:
        errors[0] += " (nothing from this point of the blob was stored; the next run retries it)"
        raise run.refuse_page(len(records) + len(errors), len(errors), errors)
    end = offset + len(content)

    def advance(locked: CollectionSource) -> list[str]:
        position, _ = CollectedBlob.objects.select_for_update().get_or_create(
            source=locked, name=name
        )
        # Another collector may have stored these lines first: the offset only moves on.
        if end > position.offset:
            position.offset = end
            position.save(update_fields=["offset", "updated_at"])
        return []

    run.store_page(records, advance, where=where)
