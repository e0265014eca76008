"""Where digests are written outside the database: a folder, an Azure Storage container.

Digests are written once. A digest file that already exists is left as it is when it holds
the same bytes, and is an error when it differs: the database has lost digests it once had,
and replacing the file would destroy the evidence. The one exception is a file this process
wrote for a transaction that then did not commit (``stale``: the writer knows it), which the
next digest under that number replaces.
"""

import contextlib
import os
from pathlib import Path

from azure.core.exceptions import AzureError, ResourceExistsError
from azure.storage.blob import BlobServiceClient, ContentSettings
from django.conf import settings

from auditportal_verify.digests import FILE_PREFIX, FILE_SUFFIX
from logs.retention.blob_store import credential_from, parse_archive_url
from logs.retention.stores import ArchiveStoreError

CREDENTIAL_VARIABLE = "AUDITPORTAL_DIGEST_CREDENTIAL"


class DigestStoreError(Exception):
    """A digest cannot be written or read outside the database: names the place."""


def _conflict(location: str, name: str) -> DigestStoreError:
    return DigestStoreError(
        f"{location}/{name} already exists and differs from the digest being written: the "
        "database lacks digests that were written outside it (deleted digests, or a "
        "transaction that failed after writing). Run verify_audit_log; see "
        "docs/internals/signed-digests.md before moving the file aside."
    )


class DirectoryStore:
    def __init__(self, path: str):
        self.path = Path(path)
        self.location = str(self.path)

    def write(self, name: str, data: bytes, stale: bytes | None = None) -> None:
        target = self.path / name
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            partial = self.path / f".{name}.partial"
            with open(partial, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            try:
                # A hard link fails when the target exists: written once, atomically.
                os.link(partial, target)
            except FileExistsError:
                existing = target.read_bytes()
                if existing != data:
                    if stale is None or existing != stale:
                        raise _conflict(self.location, name) from None
                    os.replace(partial, target)
            finally:
                partial.unlink(missing_ok=True)
            directory = os.open(self.path, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except OSError as error:
            raise DigestStoreError(
                f"cannot write digest {target}: {error.strerror or error}"
            ) from None

    def remove(self, name: str, data: bytes) -> None:
        """Take back a file just written for a digest that will not be committed."""
        target = self.path / name
        with contextlib.suppress(OSError):
            if target.read_bytes() == data:
                target.unlink()

    def read_all(self) -> list[tuple[str, bytes]]:
        if not self.path.exists():
            # Made by the first digest; if it was removed, the database's copies show it.
            return []
        if not self.path.is_dir():
            raise DigestStoreError(f"digest folder {self.path} is not a folder")
        return [
            (str(path), _read(path))
            for path in sorted(self.path.glob(f"{FILE_PREFIX}*{FILE_SUFFIX}"))
        ]


def _read(path) -> bytes:
    """A digest file's bytes. One that cannot be read (a folder or a broken link in its name)
    refuses the verification, saying which: whoever can write the folder must not be able to
    turn it into a traceback that reports nothing."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise DigestStoreError(f"digest {path} cannot be read: {error.strerror or error}") from None


class BlobDigestStore:
    """Digests as blobs under a prefix of a container. With a time-based immutability policy
    on the container, not even the storage account's owner can change or delete them."""

    def __init__(self, url: str):
        try:
            account_url, account, container, prefix = parse_archive_url(url)
            credential = credential_from(CREDENTIAL_VARIABLE, account)
        except ArchiveStoreError as error:
            raise DigestStoreError(
                f"AUDITPORTAL_DIGEST_URL: {str(error).replace('archive URL', 'digest URL')}"
            ) from None
        service = BlobServiceClient(
            account_url, credential=credential, connection_timeout=20, read_timeout=60
        )
        self.container = service.get_container_client(container)
        self.prefix = prefix
        self.location = f"{account_url}/{container}/{prefix}".rstrip("/")

    def write(self, name: str, data: bytes, stale: bytes | None = None) -> None:
        blob = self.container.get_blob_client(self.prefix + name)
        settings_ = ContentSettings(content_type="application/json")
        try:
            try:
                blob.upload_blob(data, overwrite=False, content_settings=settings_)
            except ResourceExistsError:
                existing = blob.download_blob().readall()
                if existing != data:
                    if stale is None or existing != stale:
                        raise _conflict(self.location, name) from None
                    # Refused under an immutability policy: then the conflict stands.
                    blob.upload_blob(data, overwrite=True, content_settings=settings_)
        except AzureError as error:
            raise DigestStoreError(
                f"cannot write digest {self.location}/{name}: {str(error).splitlines()[0]}"
            ) from None

    def remove(self, name: str, data: bytes) -> None:
        blob = self.container.get_blob_client(self.prefix + name)
        with contextlib.suppress(AzureError):
            if blob.download_blob().readall() == data:
                blob.delete_blob()

    def read_all(self) -> list[tuple[str, bytes]]:
        try:
            names = sorted(
                blob.name
                for blob in self.container.list_blobs(name_starts_with=self.prefix + FILE_PREFIX)
                if blob.name.endswith(FILE_SUFFIX) and "/" not in blob.name[len(self.prefix) :]
            )
            return [
                (
                    f"{self.location}/{name[len(self.prefix) :]}",
                    self.container.download_blob(name).readall(),
                )
                for name in names
            ]
        except AzureError as error:
            raise DigestStoreError(
                f"cannot read digests from {self.location}: {str(error).splitlines()[0]}"
            ) from None


def outside_stores() -> list:
    """The configured places, folder first."""
    stores = []
    if getattr(settings, "AUDITPORTAL_DIGEST_DIR", ""):
        stores.append(DirectoryStore(settings.AUDITPORTAL_DIGEST_DIR))
    if getattr(settings, "AUDITPORTAL_DIGEST_URL", ""):
        stores.append(BlobDigestStore(settings.AUDITPORTAL_DIGEST_URL))
    return stores
