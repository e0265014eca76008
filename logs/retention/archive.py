"""The retention archive: compressed NDJSON of Graph-shaped records, and its manifest.

One directory per run (``retention-<UTC time>``) holds ``events-0001.ndjson.zst``, ... and
``manifest.json`` (zstandard; or gzip and ``.ndjson.gz``, see logs.retention.compression).
Each line is the record as ``export_audit_logs --format ndjson`` writes it
(logs.exports.graph_records), so ``import_audit_logs`` reads an archive file back as it is.

The manifest is the contract with the purge: it lists every finished file with its SHA-256,
event count, date range, counts per category and the exact event ids it holds, and only ids
listed there are ever deleted. The store (``logs.retention.stores``: a folder, or an Azure
Storage container) makes each file durable before it is listed, so after a crash a file is
either listed whole or not listed at all (an unlisted file is removed and its events, never
deleted, are archived again).
"""

import hashlib

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
from logs.originals.dictionaries import detached_text_reader
from logs.retention.compression import configured, of_manifest
from logs.retention.faults import halt_point
from logs.retention.ids import id_condition, id_ranges, ids_of
from logs.retention.selection import part_dates
from logs.retention.stores import ArchiveStore, open_store

ARCHIVE_FORMAT = "auditportal-retention-archive"
ARCHIVING, COMPLETE = "archiving", "complete"
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


class PartRecords:
    """A part's records as read from the database, not yet lines of the archive.

    Reading is split from making the lines so that the database work (on the thread that also
    deletes) and the work of unpacking the originals and formatting them (on the writer's
    thread, with compressing) share the two sides of the pipeline: unpacking and compressing
    run in zstandard's C code without the interpreter lock.
    """

    def __init__(self, ids: list[int], stored: dict, rebuilt: dict, original_text):
        self.ids = ids
        self.stored = stored  # pk -> (source format, packed original), made into lines later
        self.rebuilt = rebuilt  # pk -> the record's text, rebuilt from its normalised fields
        self.original_text = original_text  # packed original -> text, with no database

    @classmethod
    def read(cls, ids: list[int]) -> "PartRecords":
        """The database's part: the events' stored originals, and the records of those kept
        only as normalised fields (portal CSV, Log Analytics rows) rebuilt by the export's own
        path, targets read only where needed."""
        stored = {}
        rebuilt_ids = []
        for pk, source_format, original in _originals(ids):
            if source_format in VERBATIM_FORMATS or source_format == AZURE_MONITOR:
                stored[pk] = (source_format, original)
            else:
                rebuilt_ids.append(pk)
        rebuilt = {}
        if rebuilt_ids:
            events = AuditEvent.objects.filter(id__in=rebuilt_ids)
            for chunk in iter_event_rows(
                events, oldest_first=True, with_original=True, with_targets=needs_targets
            ):
                for event in chunk:
                    rebuilt[event.pk] = graph_record_text(event)
        # After the originals are read: every dictionary they name is stored by now.
        return cls(ids, stored, rebuilt, detached_text_reader(connection))

    def lines(self) -> list[bytes]:
        """Each event's Graph-shaped record as one NDJSON line, in the order of the ids: no
        database work, so it can run on another thread."""
        lines = []
        for pk in self.ids:
            text = self.rebuilt.get(pk)
            if text is None:
                source_format, original = self.stored[pk]
                text = self.original_text(original)
                if source_format == AZURE_MONITOR:
                    text = orjson.dumps(azure_monitor_graph_record(text)).decode()
                elif "\n" in text:
                    # An original spread over lines: NDJSON needs it on one, as the export does.
                    text = orjson.dumps(orjson.loads(text)).decode()
            lines.append(text.encode() + b"\n")
        return lines


def _originals(ids: list[int]):
    """(id, source format, the original as stored: packed) of the events ``ids``."""
    table = AuditEvent._meta.db_table
    condition, parameters = id_condition("id", ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, source_format, original FROM {table} WHERE {condition}", parameters
        )
        return cursor.fetchall()


class ArchiveRun:
    """One run's archive files and manifest, in a store (a folder or a container)."""

    def __init__(self, store: ArchiveStore, manifest: dict):
        self.store = store
        self.manifest = manifest

    @property
    def name(self) -> str:
        return self.manifest["run"]

    @property
    def location(self) -> str:
        return self.store.run_location(self.name)

    @property
    def complete(self) -> bool:
        return self.manifest["status"] == COMPLETE

    @property
    def files(self) -> list[dict]:
        return self.manifest["files"]

    @classmethod
    def create(cls, archive, policy: dict, now) -> "ArchiveRun":
        """A new run in ``archive`` (a store, or a folder)."""
        store = open_store(archive)
        compression = configured()

        def first_manifest(name: str) -> dict:
            return {
                "format": ARCHIVE_FORMAT,
                # 2: the files' compression is named (1, without it: gzip).
                "version": 2,
                "run": name,
                "compression": compression.name,
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
            }

        name = store.begin_run(f"retention-{now:%Y%m%dT%H%M%SZ}", first_manifest)
        return cls(store, store.load_manifest(name))

    @classmethod
    def load(cls, archive, name: str) -> "ArchiveRun":
        store = open_store(archive)
        return cls(store, store.load_manifest(name))

    @classmethod
    def all(cls, archive) -> list["ArchiveRun"]:
        """Every run in ``archive``, oldest first."""
        store = open_store(archive)
        return [cls.load(store, name) for name in store.run_names()]

    @classmethod
    def unfinished(cls, archive) -> list["ArchiveRun"]:
        """Runs in ``archive`` that were stopped before they finished, oldest first."""
        return [run for run in cls.all(archive) if not run.complete]

    def listed_ids(self) -> list[int]:
        return [pk for entry in self.files for pk in ids_of(entry["ids"])]

    def remove_unlisted_files(self) -> None:
        """Drop what a stopped run wrote but never listed: its events were not deleted."""
        self.store.remove_unlisted(self.name, {entry["name"] for entry in self.files})

    def file_location(self, entry: dict) -> str:
        return self.store.file_location(self.name, entry["name"])

    def write_file(self, events: list[tuple]) -> dict:
        """Archive ``events`` (``next_part``'s rows, oldest first) as the next
        file, durably, then list it in the manifest; returns the manifest entry."""
        return self.write_records(events, self.read_records(events))

    @staticmethod
    def read_records(events: list[tuple]) -> list["PartRecords"]:
        """The records of ``events``, read: the database's part of archiving them (they become
        lines in ``write_records``)."""
        return [
            PartRecords.read([event[0] for event in events[start : start + READ_CHUNK]])
            for start in range(0, len(events), READ_CHUNK)
        ]

    def write_records(self, events: list[tuple], records: list["PartRecords"]) -> dict:
        """Make ``records`` (those of ``events``, read by ``read_records``) into lines, compress
        them into the next file, make it durable and list it in the manifest: no database
        work, so it can run beside a delete."""
        compression = of_manifest(self.manifest)
        name = f"events-{len(self.files) + 1:04d}{compression.suffix}"
        with self.store.open_writer(self.name, name) as raw:
            hashing = _HashingFile(raw)
            with compression.writer(hashing) as stream:
                for chunk in records:
                    stream.write(b"".join(chunk.lines()))
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
        add_totals(self.manifest, entry)
        self.store.list_file(self.name, self.manifest, entry)
        return entry

    def note_held(self, ids) -> None:
        """List archived events that a legal hold kept from being deleted: they stay stored,
        and once released are archived again by a later run."""
        held = set(ids_of(self.manifest.get("held", []))) | set(ids)
        self.manifest["held"] = id_ranges(held)
        self.store.update_manifest(self.name, self.manifest)

    def finish(self, purged: int) -> None:
        self.manifest["status"] = COMPLETE
        self.manifest["purged"] = purged
        self.manifest["finished_at"] = timezone.now().isoformat()
        self.store.finish_run(self.name, self.manifest)


def add_totals(manifest: dict, entry: dict) -> None:
    """Count a listed file in the run's totals."""
    manifest["events"] += entry["events"]
    manifest["oldest"] = min(filter(None, [manifest["oldest"], entry["oldest"]]))
    manifest["newest"] = max(filter(None, [manifest["newest"], entry["newest"]]))
    for category, count in entry["categories"].items():
        manifest["categories"][category] = manifest["categories"].get(category, 0) + count
