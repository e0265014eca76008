"""Retention archives in an Azure Storage container (azure-storage-blob).

``https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX`` holds the same runs as a folder:
``PREFIX/retention-<UTC time>/events-0001.ndjson.zst``, ... and ``manifest.json``. Every blob is
written once and never overwritten or deleted once listed, so a container with a time-based
immutability policy (write once, read many) takes the archive as it is:

- a file is a block blob whose blocks are staged, then committed in one call: until the commit
  returns it does not exist, after it it is whole and durable;
- the run is claimed by writing its ``run.json`` (the first manifest) only if no blob has that
  name, and a file is listed by writing its manifest entry as ``events-NNNN.json`` beside it,
  also only if absent, and only after the file is committed; ``manifest.json``, the whole
  manifest, is written once, when the run is complete. The state of an unfinished run is its
  ``run.json`` plus the entries written so far;
- two runs are kept apart by a lease on ``PREFIX/.apply_retention.lock``: taken for a minute
  and renewed by a background thread, renewed once more before each delete (a run that has lost
  it stops before deleting anything), released at the end. A run killed without releasing it
  keeps the next one out until the lease runs out, a minute later.

The credential comes from an environment variable (``--archive-credential-env`` or the
``AUDITPORTAL_ARCHIVE_CREDENTIAL_ENV`` setting name it): the account key, or a SAS token for
the container (with read, add, create, write, list and, to remove unlisted files after a crash,
delete permission). It is never taken from the URL, the command line or the database.
"""

import base64
import contextlib
import ipaddress
import json
import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

from azure.core import MatchConditions
from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
)
from azure.storage.blob import BlobBlock, BlobLeaseClient, BlobServiceClient, ContentSettings
from django.conf import settings

from logs.retention.compression import base_name, of_file_name
from logs.retention.stores import (
    LOCK_NAME,
    MANIFEST_NAME,
    ArchiveBusyError,
    ArchiveStore,
    ArchiveStoreError,
    check_entry,
    check_manifest,
    manifest_bytes,
)

DEFAULT_CREDENTIAL_VARIABLE = "AUDITPORTAL_ARCHIVE_CREDENTIAL"
RUN_MANIFEST = "run.json"
ENTRY_SUFFIX = ".json"
BLOCK_BYTES = 4 * 2**20
LEASE_SECONDS = 60
CONTAINER_NAME = re.compile(r"^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")


def credential_variable_name(option: str | None = None) -> str:
    """The environment variable holding the credential: the option's, the setting's, or the
    default."""
    return (
        option
        or getattr(settings, "AUDITPORTAL_ARCHIVE_CREDENTIAL_ENV", "")
        or DEFAULT_CREDENTIAL_VARIABLE
    )


def parse_archive_url(url: str) -> tuple[str, str, str, str]:
    """``(account URL, account name, container, prefix)`` of a container URL.

    ``https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX``; an address or ``localhost``
    (the storage emulator, Azurite) takes the account as the first path segment:
    ``http://127.0.0.1:10000/ACCOUNT/CONTAINER/PREFIX``. Plain http only to this machine.
    """
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise ArchiveStoreError(
            "The archive URL must not carry a query (a SAS token is a secret): put the token "
            "in the credential's environment variable."
        )
    if parts.username or parts.password:
        raise ArchiveStoreError("The archive URL must not carry a user name or password.")
    host = parts.hostname or ""
    path_style = host == "localhost" or _is_address(host)
    if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(host)):
        raise ArchiveStoreError(
            f"The archive URL must use https (plain http only to this machine): {url}"
        )
    segments = [segment for segment in parts.path.split("/") if segment]
    if path_style:
        if not segments:
            raise ArchiveStoreError(f"No account in the archive URL {url} (/ACCOUNT/CONTAINER).")
        account = segments.pop(0)
        account_url = f"{parts.scheme}://{parts.netloc}/{account}"
    else:
        account = host.split(".", 1)[0]
        account_url = f"{parts.scheme}://{parts.netloc}"
    if not segments:
        raise ArchiveStoreError(f"No container in the archive URL {url}.")
    container, prefix = segments[0], "/".join(segments[1:])
    if not CONTAINER_NAME.match(container):
        raise ArchiveStoreError(
            f"{container!r} is not a container name (3 to 63 lower-case letters, digits and "
            "single hyphens)."
        )
    return account_url, account, container, (prefix + "/" if prefix else "")


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _is_loopback(host: str) -> bool:
    return host == "localhost" or (_is_address(host) and ipaddress.ip_address(host).is_loopback)


def credential_from(variable: str, account: str):
    value = os.environ.get(variable, "").strip()
    if not value:
        raise ArchiveStoreError(
            f"The environment variable {variable} is not set: set it to the storage account's "
            "key or to a SAS token for the container."
        )
    if "sig=" in value:
        return value.lstrip("?")
    return {"account_name": account, "account_key": value}


class BlobStore(ArchiveStore):
    """An archive under a prefix of an Azure Storage container."""

    def __init__(self, container_client, prefix: str, location: str):
        self.container = container_client
        self.prefix = prefix
        self.location = location
        self._lease: BlobLeaseClient | None = None
        self._lease_lost: str | None = None

    @classmethod
    def from_url(cls, url: str, *, credential_variable: str | None = None) -> "BlobStore":
        account_url, account, container, prefix = parse_archive_url(url)
        credential = credential_from(credential_variable_name(credential_variable), account)
        service = BlobServiceClient(
            account_url, credential=credential, connection_timeout=20, read_timeout=120
        )
        location = f"{account_url}/{container}/{prefix}".rstrip("/")
        return cls(service.get_container_client(container), prefix, location)

    # -- names -------------------------------------------------------------------------------
    def _blob(self, *parts: str):
        return self.container.get_blob_client(self.prefix + "/".join(parts))

    def run_location(self, run: str) -> str:
        return f"{self.location}/{quote(run)}"

    def file_location(self, run: str, name: str) -> str:
        return f"{self.location}/{quote(run)}/{quote(name)}"

    # -- the lock: a lease on one blob ----------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        lock_blob = self._blob(LOCK_NAME)
        with contextlib.suppress(ResourceExistsError):
            self._call(
                lambda: lock_blob.upload_blob(b"", overwrite=False),
                f"create {LOCK_NAME}",
                passing=(ResourceExistsError,),
            )
        lease = BlobLeaseClient(lock_blob)
        try:
            lease.acquire(lease_duration=LEASE_SECONDS)
        except HttpResponseError as error:
            if error.status_code == 409:
                raise ArchiveBusyError(
                    f"Another apply_retention run is using {self.location} (it holds the lease "
                    f"on {LOCK_NAME}); wait for it to end, or for the lease to run out "
                    f"({LEASE_SECONDS} s after a run that was killed)."
                ) from None
            raise ArchiveStoreError(
                f"{self.location}: cannot take the lock: {_first_line(error)}"
            ) from None
        except AzureError as error:
            raise ArchiveStoreError(
                f"{self.location}: cannot take the lock: {_first_line(error)}"
            ) from None
        self._lease, self._lease_lost = lease, None
        stop = threading.Event()
        renewer = threading.Thread(target=self._keep_lease, args=(stop,), daemon=True)
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            renewer.join()
            self._lease = None
            with contextlib.suppress(AzureError):
                lease.release()

    def _keep_lease(self, stop: threading.Event) -> None:
        while not stop.wait(LEASE_SECONDS / 4):
            try:
                self._lease.renew()
            except AzureError as error:
                self._lease_lost = str(error)
                return

    def check_lock(self) -> None:
        if self._lease is None:
            return
        if self._lease_lost is None:
            try:
                self._lease.renew()
            except AzureError as error:
                self._lease_lost = str(error)
        if self._lease_lost is not None:
            raise ArchiveBusyError(
                f"This run lost its lease on {self.location}/{LOCK_NAME} and stops before "
                f"deleting anything more ({self._lease_lost.splitlines()[0]})."
            )

    # -- runs and manifests ------------------------------------------------------------------
    def begin_run(self, base: str, manifest_for: Callable[[str], dict]) -> str:
        for number in range(1, 1000):
            name = base if number == 1 else f"{base}-{number}"
            try:
                self._write_once(name, RUN_MANIFEST, manifest_bytes(manifest_for(name)))
            except ResourceExistsError:
                continue
            return name
        raise ArchiveStoreError(f"{self.location}: no free run name for {base}")

    def run_names(self) -> list[str]:
        names = set()
        for blob in self._call(
            lambda: list(self.container.list_blobs(name_starts_with=self.prefix + "retention-")),
            "list the runs",
        ):
            run, _, rest = blob.name[len(self.prefix) :].partition("/")
            if rest in (RUN_MANIFEST, MANIFEST_NAME):
                names.add(run)
        return sorted(names)

    def load_manifest(self, run: str) -> dict:
        complete = self._read_json(run, MANIFEST_NAME)
        if complete is not None:
            return complete
        manifest = self._read_json(run, RUN_MANIFEST)
        if manifest is None:
            raise ArchiveStoreError(f"{self.run_location(run)}: no {RUN_MANIFEST}")
        from logs.retention.archive import add_totals

        prefix = f"{self.prefix}{run}/events-"
        entries = sorted(
            blob.name
            for blob in self._call(
                lambda: list(self.container.list_blobs(name_starts_with=prefix)), "list files"
            )
            if blob.name.endswith(ENTRY_SUFFIX)
        )
        for blob_name in entries:
            name = blob_name.rsplit("/", 1)[1]
            entry = check_entry(self._read_json(run, name), self.file_location(run, name))
            manifest["files"].append(entry)
            add_totals(manifest, entry)
        return manifest

    def _read_json(self, run: str, name: str) -> dict | None:
        where = self.file_location(run, name)
        try:
            data = self._call(
                lambda: self._blob(run, name).download_blob().readall(),
                f"read {name}",
                passing=(ResourceNotFoundError,),
            )
        except ResourceNotFoundError:
            return None
        try:
            document = json.loads(data)
        except (ValueError, RecursionError):
            raise ArchiveStoreError(f"{where} is not JSON") from None
        return document if name.startswith("events-") else check_manifest(document, where)

    def list_file(self, run: str, manifest: dict, entry: dict) -> None:
        self._write_once(run, _entry_name(entry["name"]), manifest_bytes(entry))

    def update_manifest(self, run: str, manifest: dict) -> None:
        # Nothing to record yet: the held events go into the complete manifest, and a stopped
        # run's are found again when it is finished.
        pass

    def finish_run(self, run: str, manifest: dict) -> None:
        self._write_once(run, MANIFEST_NAME, manifest_bytes(manifest))

    def _write_once(self, run: str, name: str, data: bytes) -> None:
        blob = self._blob(run, name)
        self._call(
            lambda: blob.upload_blob(
                data,
                overwrite=False,
                content_settings=ContentSettings(content_type="application/json"),
            ),
            f"write {name}",
            passing=(ResourceExistsError,),
        )

    # -- files -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def open_writer(self, run: str, name: str) -> Iterator["_BlockWriter"]:
        writer = _BlockWriter(self._blob(run, name), self)
        yield writer
        writer.commit()

    def remove_unlisted(self, run: str, listed: set[str]) -> None:
        """Delete files a stopped run committed but never listed. Where the container refuses
        (an immutability policy), the file stays, unlisted: nothing reads it."""
        keep = listed | {_entry_name(name) for name in listed} | {RUN_MANIFEST, MANIFEST_NAME}
        prefix = f"{self.prefix}{run}/"
        for blob in self._call(
            lambda: list(self.container.list_blobs(name_starts_with=prefix)), "list files"
        ):
            if blob.name[len(prefix) :] not in keep:
                with contextlib.suppress(ResourceNotFoundError, HttpResponseError):
                    self.container.delete_blob(blob.name)

    def download(self, run: str, name: str, destination: Path) -> None:
        with open(destination, "wb") as stream:
            self._call(
                lambda: self._blob(run, name).download_blob().readinto(stream),
                f"download {name}",
            )

    # -- errors --------------------------------------------------------------------------------
    def _call(self, action, what: str, passing=()):
        """Run ``action``; an Azure error becomes an ArchiveStoreError naming the archive."""
        try:
            return action()
        except passing:
            raise
        except ResourceNotFoundError as error:
            raise ArchiveStoreError(
                f"{self.location}: cannot {what}: not found (does the container exist?): "
                f"{_first_line(error)}"
            ) from None
        except AzureError as error:
            raise ArchiveStoreError(
                f"{self.location}: cannot {what}: {_first_line(error)}"
            ) from None


def _entry_name(file_name: str) -> str:
    return base_name(file_name) + ENTRY_SUFFIX


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


class _BlockWriter:
    """A file-like writer that stages 4 MiB blocks and commits them as one block blob, only if
    no blob has the name yet (a committed file is never overwritten)."""

    def __init__(self, blob_client, store: BlobStore):
        self.blob = blob_client
        self.store = store
        self.buffer = bytearray()
        self.blocks: list[BlobBlock] = []

    def write(self, data) -> int:
        self.buffer += data
        if len(self.buffer) >= BLOCK_BYTES:
            self._stage(bytes(self.buffer))
            self.buffer.clear()
        return len(data)

    def flush(self) -> None:
        pass

    def _stage(self, data: bytes) -> None:
        block_id = base64.b64encode(f"{len(self.blocks):08d}".encode()).decode()
        self.store._call(
            lambda: self.blob.stage_block(block_id, data, validate_content=True),
            f"write {self.blob.blob_name}",
        )
        self.blocks.append(BlobBlock(block_id=block_id))

    def commit(self) -> None:
        if self.buffer or not self.blocks:
            self._stage(bytes(self.buffer))
            self.buffer.clear()
        self.store._call(
            lambda: self.blob.commit_block_list(
                self.blocks,
                content_settings=ContentSettings(
                    content_type=of_file_name(self.blob.blob_name).content_type
                ),
                match_condition=MatchConditions.IfMissing,
            ),
            f"commit {self.blob.blob_name}",
        )
