"""The retention archive: gzip-compressed NDJSON of Graph-shaped records, and its manifest.

One directory per run (``retention-<UTC time>``) holds ``events-0001.ndjson.gz``, ... and
``manifest.json``. Each line is the record as ``export_audit_logs --format ndjson`` writes it
(logs.exports.graph_records), so ``import_audit_logs`` reads an archive file back as it is.

The manifest is the contract with the purge: it lists every finished file with its SHA-256,
event count, date range, counts per category and the exact event ids it holds, and only ids
listed there are ever deleted. Files and the manifest are written to a temporary name, flushed
to disk (fsync) and renamed into place, and the directory is synced too, so after a crash a
file is either listed whole or not listed at all (an unlisted file is removed and its events,
never deleted, are archived again).
"""

import gzip
import hashlib
import json
import os
from pathlib import Path

import orjson
from django.db import connection
from django.utils import timezone

from logs.exports.graph_records import (
    AZURE_MONITOR,
    VERBATIM_FORMATS,
    azure_monitor_graph_record,
    graph_record_text,
    needs_targets,
)
from logs.exports.selection import iter_event_rows
from logs.models import AuditEvent
from logs.retention.faults import halt_point
from logs.retention.ids import id_condition, id_ranges, ids_of
from logs.retention.selection import part_dates

ARCHIVE_FORMAT = "auditportal-retention-archive"
MANIFEST_NAME = "manifest.json"
ARCHIVING, COMPLETE = "archiving", "complete"
# Level 1: several times faster than the default 9 and most of its gain on JSON text, so
# compressing never holds a purge back.
COMPRESS_LEVEL = 1
READ_CHUNK = 5_000


class _HashingFile:
    """A binary file that also hashes and counts what is written to it."""

    def __init__(self, stream):
        self.stream = stream
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self.stream.write(data)

    def flush(self) -> None:
        self.stream.flush()


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


def graph_lines(ids: list[int]) -> list[bytes]:
    """Each event's Graph-shaped record as one NDJSON line, in the order of ``ids``."""
    texts = {}
    rebuilt = []
    for pk, source_format, original in _originals(ids):
        if source_format in VERBATIM_FORMATS and "\n" not in original:
            texts[pk] = original
        elif source_format == AZURE_MONITOR:
            texts[pk] = orjson.dumps(azure_monitor_graph_record(original)).decode()
        else:
            rebuilt.append(pk)
    if rebuilt:
        # Records rebuilt from their normalised fields (portal CSV, Log Analytics rows), or an
        # original spread over lines: the export's own path, targets read only where needed.
        events = AuditEvent.objects.filter(id__in=rebuilt)
        for chunk in iter_event_rows(
            events, oldest_first=True, with_original=True, with_targets=needs_targets
        ):
            for event in chunk:
                texts[event.pk] = graph_record_text(event)
    return [texts[pk].encode() + b"\n" for pk in ids]


def _originals(ids: list[int]):
    table = AuditEvent._meta.db_table
    condition, parameters = id_condition("id", ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, source_format, original FROM {table} WHERE {condition}", parameters
        )
        return cursor.fetchall()


class ArchiveRun:
    """One run's archive directory and manifest."""

    def __init__(self, directory: Path, manifest: dict):
        self.directory = Path(directory)
        self.manifest = manifest

    @property
    def name(self) -> str:
        return self.manifest["run"]

    @property
    def complete(self) -> bool:
        return self.manifest["status"] == COMPLETE

    @property
    def files(self) -> list[dict]:
        return self.manifest["files"]

    @classmethod
    def create(cls, archive_dir, policy: dict, now) -> "ArchiveRun":
        archive_dir = Path(archive_dir)
        archive_dir.mkdir(parents=True, exist_ok=True)
        base = f"retention-{now:%Y%m%dT%H%M%SZ}"
        name, number = base, 1
        while (archive_dir / name).exists():
            number += 1
            name = f"{base}-{number}"
        directory = archive_dir / name
        directory.mkdir()
        sync_directory(archive_dir)
        run = cls(
            directory,
            {
                "format": ARCHIVE_FORMAT,
                "version": 1,
                "run": name,
                "status": ARCHIVING,
                "started_at": now.isoformat(),
                "finished_at": None,
                "policy": policy,
                "events": 0,
                "oldest": None,
                "newest": None,
                "categories": {},
                "files": [],
                "held": [],
            },
        )
        run.save()
        return run

    @classmethod
    def load(cls, directory) -> "ArchiveRun":
        directory = Path(directory)
        manifest = json.loads((directory / MANIFEST_NAME).read_text(encoding="utf-8"))
        if manifest.get("format") != ARCHIVE_FORMAT:
            raise ValueError(f"{directory / MANIFEST_NAME} is not a retention archive manifest")
        return cls(directory, manifest)

    @classmethod
    def unfinished(cls, archive_dir) -> list["ArchiveRun"]:
        """Runs in ``archive_dir`` that were stopped before they finished, oldest first."""
        runs = []
        for manifest in sorted(Path(archive_dir).glob(f"retention-*/{MANIFEST_NAME}")):
            run = cls.load(manifest.parent)
            if not run.complete:
                runs.append(run)
        return runs

    def save(self) -> None:
        # orjson: the id ranges of a large run make json's indenting encoder slow.
        write_durably(
            self.directory / MANIFEST_NAME, orjson.dumps(self.manifest, option=orjson.OPT_INDENT_2)
        )

    def listed_ids(self) -> list[int]:
        return [pk for entry in self.files for pk in ids_of(entry["ids"])]

    def remove_unlisted_files(self) -> None:
        """Drop what a stopped run wrote but never listed: its events were not deleted."""
        listed = {entry["name"] for entry in self.files} | {MANIFEST_NAME}
        for path in self.directory.iterdir():
            if path.name not in listed:
                path.unlink()

    def write_file(self, events: list[tuple]) -> dict:
        """Archive ``events`` (``next_part``'s rows, oldest first) as the next
        file, durably, then list it in the manifest; returns the manifest entry."""
        return self.write_lines(events, self.read_lines(events))

    @staticmethod
    def read_lines(events: list[tuple]) -> list[bytes]:
        """The NDJSON lines of ``events``: the database's part of archiving them."""
        lines = []
        for start in range(0, len(events), READ_CHUNK):
            lines += graph_lines([event[0] for event in events[start : start + READ_CHUNK]])
        return lines

    def write_lines(self, events: list[tuple], lines: list[bytes]) -> dict:
        """Compress ``lines`` (those of ``events``) into the next file, sync it and list it in
        the manifest: no database work, so it can run beside a delete."""
        name = f"events-{len(self.files) + 1:04d}.ndjson.gz"
        path = self.directory / name
        temporary = path.with_name(name + ".partial")
        with open(temporary, "wb") as raw:
            hashing = _HashingFile(raw)
            with gzip.GzipFile(
                filename="", mode="wb", fileobj=hashing, compresslevel=COMPRESS_LEVEL, mtime=0
            ) as stream:
                for start in range(0, len(lines), READ_CHUNK):
                    stream.write(b"".join(lines[start : start + READ_CHUNK]))
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temporary, path)
        sync_directory(self.directory)
        halt_point("written")
        oldest, newest = part_dates(events)
        categories: dict[str, int] = {}
        for _, _, category in events:
            categories[category] = categories.get(category, 0) + 1
        entry = {
            "name": name,
            "sha256": hashing.sha256.hexdigest(),
            "bytes": hashing.size,
            "events": len(events),
            "oldest": oldest.isoformat(timespec="microseconds"),
            "newest": newest.isoformat(timespec="microseconds"),
            "categories": categories,
            "ids": id_ranges(event[0] for event in events),
        }
        self.files.append(entry)
        self._add_totals(entry)
        self.save()
        return entry

    def _add_totals(self, entry: dict) -> None:
        manifest = self.manifest
        manifest["events"] += entry["events"]
        manifest["oldest"] = min(filter(None, [manifest["oldest"], entry["oldest"]]))
        manifest["newest"] = max(filter(None, [manifest["newest"], entry["newest"]]))
        for category, count in entry["categories"].items():
            manifest["categories"][category] = manifest["categories"].get(category, 0) + count

    def note_held(self, ids) -> None:
        """List archived events that a legal hold kept from being deleted: they stay stored,
        and once released are archived again by a later run."""
        held = set(ids_of(self.manifest.get("held", []))) | set(ids)
        self.manifest["held"] = id_ranges(held)
        self.save()

    def finish(self, purged: int) -> None:
        self.manifest["status"] = COMPLETE
        self.manifest["purged"] = purged
        self.manifest["finished_at"] = timezone.now().isoformat()
        self.save()
