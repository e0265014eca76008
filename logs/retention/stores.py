"""Where retention archives go: a local folder, or an Azure Storage container
(``logs.retention.blob_store``).

A store keeps runs (``retention-<UTC time>``), each with its archive files and manifest, and
gives the guarantees the run relies on (see ``logs.retention.run``):

- a file is complete and durable once ``open_writer``'s block ends without an error, and only
  then is it listed (``list_file``): a crash leaves a file listed whole or not at all;
- ``lock`` keeps a second run out for as long as this one works, and ``check_lock`` says, before
  anything is deleted, that it still holds it;
- nothing a store lists is ever removed; only files never listed are (``remove_unlisted``).
"""

import contextlib
import fcntl
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import orjson

MANIFEST_NAME = "manifest.json"
RUN_PATTERN = "retention-*"
LOCK_NAME = ".apply_retention.lock"


class ArchiveBusyError(Exception):
    """Another run is using the archive, or this run lost its hold on it."""


class ArchiveStoreError(Exception):
    """The archive cannot be read or written as asked (with what to fix)."""


def manifest_bytes(manifest: dict) -> bytes:
    # orjson: the id ranges of a large run make json's indenting encoder slow.
    return orjson.dumps(manifest, option=orjson.OPT_INDENT_2)


class ArchiveStore:
    """The operations a retention run needs from where its archive lives."""

    #: Where the archive is, for people and the access trail (never with a credential).
    location: str

    def lock(self) -> contextlib.AbstractContextManager:
        raise NotImplementedError

    def check_lock(self) -> None:
        """Raise ArchiveBusyError unless this run still holds the archive."""

    def begin_run(self, base: str, manifest_for: Callable[[str], dict]) -> str:
        """Claim a new run named ``base`` (or ``base-2``, ...) and store its first manifest."""
        raise NotImplementedError

    def run_names(self) -> list[str]:
        """Every run with a manifest, oldest first."""
        raise NotImplementedError

    def load_manifest(self, run: str) -> dict:
        raise NotImplementedError

    def open_writer(self, run: str, name: str) -> contextlib.AbstractContextManager[BinaryIO]:
        raise NotImplementedError

    def list_file(self, run: str, manifest: dict, entry: dict) -> None:
        """Record durably that ``entry`` (the last of ``manifest["files"]``) is archived."""
        raise NotImplementedError

    def update_manifest(self, run: str, manifest: dict) -> None:
        """Record a note of the manifest's that the deletes depend on no longer."""
        raise NotImplementedError

    def finish_run(self, run: str, manifest: dict) -> None:
        raise NotImplementedError

    def remove_unlisted(self, run: str, listed: set[str]) -> None:
        raise NotImplementedError

    def file_location(self, run: str, name: str) -> str:
        raise NotImplementedError

    def run_location(self, run: str) -> str:
        raise NotImplementedError

    def download(self, run: str, name: str, destination: Path) -> None:
        """Copy an archive file to ``destination`` (to import it)."""
        raise NotImplementedError


def check_manifest(manifest: dict, where: str) -> dict:
    from logs.retention.archive import ARCHIVE_FORMAT

    if not isinstance(manifest, dict) or manifest.get("format") != ARCHIVE_FORMAT:
        raise ArchiveStoreError(f"{where} is not a retention archive manifest")
    files = manifest.get("files")
    if not isinstance(files, list):
        raise ArchiveStoreError(f"{where}: field 'files': not a list")
    for number, entry in enumerate(files, start=1):
        check_entry(entry, f"{where}: file {number}")
    return manifest


# What a run writes (logs.retention.archive): events-0001.ndjson.zst, or .gz before zstd.
_FILE_NAME = re.compile(r"events-[0-9]{4,9}\.ndjson\.(zst|gz)")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def check_entry(entry, where: str) -> dict:
    """A manifest's file entry as a run writes it, as far as reading the archive back relies
    on it. Whoever can write the archive may put anything there: a name such as
    ``../../home/x`` would have had a file outside the download folder written and deleted."""
    if not isinstance(entry, dict):
        raise ArchiveStoreError(f"{where}: not a JSON object")
    name, sha256, events = entry.get("name"), entry.get("sha256"), entry.get("events")
    if not isinstance(name, str) or not _FILE_NAME.fullmatch(name):
        raise ArchiveStoreError(f"{where}: field 'name': not an archive file name: {name!r:.80}")
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise ArchiveStoreError(f"{where}: field 'sha256': not a SHA-256 in hexadecimal")
    if type(events) is not int or events < 0:
        raise ArchiveStoreError(f"{where}: field 'events': not a count")
    categories = entry.get("categories", {})
    if not isinstance(categories, dict) or not all(
        type(count) is int for count in categories.values()
    ):
        raise ArchiveStoreError(f"{where}: field 'categories': not counts by category")
    for field in ("oldest", "newest"):
        if not isinstance(entry.get(field), str | None):
            raise ArchiveStoreError(f"{where}: field {field!r}: not a date")
    return entry


class LocalStore(ArchiveStore):
    """A folder: files and the manifest are written to a temporary name, synced and renamed
    into place, and the folder is synced too; the lock is an ``flock`` on a file in it, which
    goes with the process however it ends."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self.location = str(self.directory)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / LOCK_NAME, "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ArchiveBusyError(
                    f"Another apply_retention run is using {self.directory}; wait for it to end."
                ) from None
            yield

    def begin_run(self, base: str, manifest_for: Callable[[str], dict]) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        name, number = base, 1
        while (self.directory / name).exists():
            number += 1
            name = f"{base}-{number}"
        (self.directory / name).mkdir()
        sync_directory(self.directory)
        self._write_manifest(name, manifest_for(name))
        return name

    def run_names(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(
            path.parent.name for path in self.directory.glob(f"{RUN_PATTERN}/{MANIFEST_NAME}")
        )

    def load_manifest(self, run: str) -> dict:
        path = self.directory / run / MANIFEST_NAME
        try:
            return check_manifest(json.loads(path.read_text(encoding="utf-8")), str(path))
        except (ValueError, RecursionError):
            raise ArchiveStoreError(f"{path} is not a retention archive manifest") from None

    @contextlib.contextmanager
    def open_writer(self, run: str, name: str) -> Iterator[BinaryIO]:
        path = self.directory / run / name
        temporary = path.with_name(name + ".partial")
        with open(temporary, "wb") as raw:
            yield raw
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temporary, path)
        sync_directory(path.parent)

    def list_file(self, run: str, manifest: dict, entry: dict) -> None:
        self._write_manifest(run, manifest)

    def update_manifest(self, run: str, manifest: dict) -> None:
        self._write_manifest(run, manifest)

    def finish_run(self, run: str, manifest: dict) -> None:
        self._write_manifest(run, manifest)

    def _write_manifest(self, run: str, manifest: dict) -> None:
        write_durably(self.directory / run / MANIFEST_NAME, manifest_bytes(manifest))

    def remove_unlisted(self, run: str, listed: set[str]) -> None:
        for path in (self.directory / run).iterdir():
            if path.name not in listed | {MANIFEST_NAME}:
                path.unlink()

    def file_location(self, run: str, name: str) -> str:
        return str(self.directory / run / name)

    def run_location(self, run: str) -> str:
        return str(self.directory / run)

    def download(self, run: str, name: str, destination: Path) -> None:
        shutil.copyfile(self.directory / run / name, destination)


def write_durably(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves the old or the new file whole."""
    temporary = path.with_name(path.name + ".partial")
    with open(temporary, "wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, path)
    sync_directory(path.parent)


def sync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def is_archive_url(location) -> bool:
    return isinstance(location, str) and location.lower().startswith(("https://", "http://"))


def open_store(location, *, credential_variable: str | None = None) -> ArchiveStore:
    """The store at ``location``: an ``https://`` URL of an Azure Storage container (and
    prefix), its credential in the environment variable ``credential_variable``; else a folder."""
    if isinstance(location, ArchiveStore):
        return location
    if is_archive_url(location):
        from logs.retention.blob_store import BlobStore

        return BlobStore.from_url(location, credential_variable=credential_variable)
    return LocalStore(location)
