"""Reading a retention archive back out of an Azure Storage container, for import.

``import_audit_logs https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX`` imports every file
listed in the manifests of every run under the prefix (``.../PREFIX/retention-<time>`` names
one run). Only listed files are read: a file a stopped run never listed holds nothing that was
deleted. Each is downloaded to a temporary folder, checked against its manifest's SHA-256 (a
file that differs is refused, never imported) and imported like a local file; its import
batch names the blob.
"""

import hashlib
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from logs.retention.archive import ArchiveRun
from logs.retention.stores import ArchiveStoreError, open_store


@dataclass
class ArchiveFile:
    """One listed archive file, downloaded and checked."""

    location: str  # where it is stored (for people and the import batch)
    path: Path | None  # the checked local copy; None when it could not be had
    error: str = ""


def split_run(url: str) -> tuple[str, str | None]:
    """The archive's URL and the run it names, if its last segment is one."""
    parts = urlsplit(url)
    segments = parts.path.rstrip("/").split("/")
    if segments[-1].startswith("retention-"):
        parent = "/".join(segments[:-1])
        return urlunsplit(parts._replace(path=parent)), segments[-1]
    return url, None


@contextmanager
def archive_files(url: str, *, credential_variable: str | None = None) -> Iterator[list]:
    """The files the archive at ``url`` lists, downloaded one at a time as they are iterated
    (each copy removed once the next is asked for)."""
    root, only_run = split_run(url)
    store = open_store(root, credential_variable=credential_variable)
    runs = [run for run in ArchiveRun.all(store) if only_run in (None, run.name)]
    if only_run is not None and not runs:
        raise ArchiveStoreError(f"No retention run {only_run} under {root}")
    with tempfile.TemporaryDirectory(prefix="auditportal-archive-") as folder:
        yield _downloaded(store, runs, Path(folder))


def _downloaded(store, runs: list[ArchiveRun], folder: Path) -> Iterator[ArchiveFile]:
    for run in runs:
        for entry in run.files:
            location = run.file_location(entry)
            path = folder / entry["name"]
            try:
                store.download(run.name, entry["name"], path)
            except ArchiveStoreError as error:
                yield ArchiveFile(location, None, str(error))
                continue
            if _sha256(path) != entry["sha256"]:
                path.unlink()
                yield ArchiveFile(
                    location, None, f"{location} does not match its manifest's SHA-256"
                )
                continue
            yield ArchiveFile(location, path)
            path.unlink(missing_ok=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()
