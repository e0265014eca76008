"""A retention archive in a folder (``LocalStore``): every file and manifest is whole on disk
before it counts, runs are named apart, a manifest that is not one is refused, and a store that
leaves an operation out refuses it rather than pretend."""

import gzip
import io
import json
import os
from io import StringIO
from pathlib import Path

import pytest
import zstandard
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from logs.models import AuditEvent
from logs.retention import stores
from logs.retention.archive import ARCHIVE_FORMAT, ArchiveRun
from logs.retention.compression import GZIP, ZSTD, of_file_name, of_manifest
from logs.retention.policy import RetentionPolicy
from logs.retention.restore import archive_files
from logs.retention.run import apply_retention
from logs.retention.stores import ArchiveStore, ArchiveStoreError, LocalStore
from tests.processes import ProcessDatabase, manage
from tests.retention.support import decompressed, store_events

pytestmark = pytest.mark.django_db


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_each_file_is_whole_and_synced_before_it_takes_its_name(archive_dir, monkeypatch):
    """A crash leaves a file listed whole or not at all: each file and manifest is written
    under a temporary name, synced with all its bytes, renamed into place, and its folder
    synced after the rename; the new run's folder is synced into the archive's."""
    steps = []
    fsync, replace = os.fsync, os.replace

    def noting_fsync(descriptor):
        path = os.readlink(f"/proc/self/fd/{descriptor}")
        size = None if os.path.isdir(path) else os.fstat(descriptor).st_size
        steps.append(("sync", path, size))
        fsync(descriptor)

    def noting_replace(source, target):
        replace(source, target)
        steps.append(("rename", str(source), str(target), os.stat(target).st_size))

    monkeypatch.setattr(stores.os, "fsync", noting_fsync)
    monkeypatch.setattr(stores.os, "replace", noting_replace)
    store_events(400, 401)
    descriptors = open_descriptors()

    result = apply_retention(RetentionPolicy(365), archive=archive_dir)

    assert open_descriptors() == descriptors  # every folder opened to sync it is closed
    folder = str(archive_dir / result.run)
    assert steps[0] == ("sync", str(archive_dir), None)
    renames = [position for position, step in enumerate(steps) if step[0] == "rename"]
    # The first manifest, the file, the manifest listing it, the complete manifest.
    assert [Path(steps[position][2]).name for position in renames] == [
        "manifest.json",
        "events-0001.ndjson.zst",
        "manifest.json",
        "manifest.json",
    ]
    for position in renames:
        _, source, target, size = steps[position]
        assert source == target + ".partial"
        assert steps[position - 1] == ("sync", source, size), "renamed before synced whole"
        assert steps[position + 1] == ("sync", folder, None), "the rename was not synced"


@pytest.mark.parametrize(
    ("operation", "arguments"),
    [
        ("lock", ()),
        ("begin_run", ("retention-x", dict)),
        ("run_names", ()),
        ("load_manifest", ("retention-x",)),
        ("open_writer", ("retention-x", "events-0001.ndjson.zst")),
        ("list_file", ("retention-x", {}, {})),
        ("update_manifest", ("retention-x", {})),
        ("finish_run", ("retention-x", {})),
        ("remove_unlisted", ("retention-x", set())),
        ("file_location", ("retention-x", "events-0001.ndjson.zst")),
        ("run_location", ("retention-x",)),
        ("download", ("retention-x", "events-0001.ndjson.zst", Path("copy"))),
    ],
)
def test_a_store_that_leaves_an_operation_out_refuses_it(operation, arguments):
    """A new kind of store that forgot to list files, say, must fail, never carry on as if
    the file were listed and let its events be deleted."""

    class Partial(ArchiveStore):
        location = "somewhere"

    with pytest.raises(NotImplementedError):
        getattr(Partial(), operation)(*arguments)
    Partial().check_lock()  # holding nothing, it has nothing to lose


def test_runs_started_the_same_second_are_numbered(tmp_path):
    archive = tmp_path / "not" / "yet" / "there"
    policy, now = RetentionPolicy(365), timezone.now()
    names = [ArchiveRun.create(archive, policy.describe(now), now).name for _ in range(3)]
    base = f"retention-{now:%Y%m%dT%H%M%SZ}"
    assert names == [base, f"{base}-2", f"{base}-3"]
    assert [run.name for run in ArchiveRun.unfinished(archive)] == sorted(names)


def test_a_folder_that_does_not_exist_holds_no_runs(tmp_path):
    assert ArchiveRun.all(tmp_path / "missing") == []
    assert LocalStore(tmp_path / "missing").run_names() == []


def test_a_run_may_archive_into_a_folder_whose_parents_are_missing(tmp_path):
    store_events(400)
    archive = tmp_path / "a" / "b" / "archive"
    result = apply_retention(RetentionPolicy(365), archive=archive)
    assert result.purged == 1
    assert (archive / result.run / "events-0001.ndjson.zst").exists()


@pytest.mark.parametrize(
    "content",
    [b"{not json", b'["a", "list"]', b'{"format": "something-else", "run": "retention-x"}'],
    ids=["not JSON", "a list", "another format"],
)
def test_a_manifest_that_is_not_one_stops_the_run_before_any_delete(archive_dir, content):
    store_events(400)
    (archive_dir / "retention-20240101T000000Z").mkdir(parents=True)
    manifest = archive_dir / "retention-20240101T000000Z" / "manifest.json"
    manifest.write_bytes(content)

    with pytest.raises(ArchiveStoreError, match=f"{manifest} is not a retention archive manifest"):
        ArchiveRun.all(archive_dir)
    with pytest.raises(CommandError, match="is not a retention archive manifest"):
        call_command("apply_retention", "--archive-dir", str(archive_dir), stdout=StringIO())
    assert AuditEvent.objects.count() == 1


def test_held_events_are_written_into_the_stored_manifest_at_once(archive_dir):
    policy, now = RetentionPolicy(365), timezone.now()
    run = ArchiveRun.create(archive_dir, policy.describe(now), now)
    run.note_held([7, 5, 6])
    run.note_held([9])
    on_disk = json.loads((archive_dir / run.name / "manifest.json").read_text())
    assert on_disk["held"] == [[5, 7], [9, 9]]


def test_archive_files_are_zstandard_frames_with_a_checksum(archive_dir):
    """New runs compress with zstandard (logs.retention.compression): one frame per file with
    its content checksum, so a damaged file fails to read; the run's manifest names it."""
    store_events(400, 401)
    result = apply_retention(RetentionPolicy(365), archive=archive_dir)
    data = (archive_dir / result.run / "events-0001.ndjson.zst").read_bytes()
    frame = zstandard.get_frame_parameters(data)
    assert (frame.has_checksum, frame.dict_id) == (True, 0)
    # At level 3, as the operators' page says.
    expected = io.BytesIO()
    level_3 = zstandard.ZstdCompressor(level=3, write_checksum=True)
    with level_3.stream_writer(expected, closefd=False) as stream:
        stream.write(decompressed(data))
    assert data == expected.getvalue()
    assert decompressed(data).count(b"\n") == 2
    manifest = json.loads((archive_dir / result.run / "manifest.json").read_text())
    assert (manifest["format"], manifest["version"]) == ("auditportal-retention-archive", 2)
    assert manifest["compression"] == "zstd"
    # A damaged byte in the middle fails the checksum, rather than reading as other records.
    damaged = bytearray(data)
    damaged[len(data) // 2] ^= 0xFF
    with pytest.raises(zstandard.ZstdError):
        decompressed(bytes(damaged))


@override_settings(AUDITPORTAL_ARCHIVE_COMPRESSION="gzip")
def test_gzip_archives_at_the_fastest_level_without_name_or_time(archive_dir):
    """For tools that read only gzip: the fastest level, no file name or time in the header,
    so the same events always archive to the same bytes."""
    store_events(400, 401)
    result = apply_retention(RetentionPolicy(365), archive=archive_dir)
    data = (archive_dir / result.run / "events-0001.ndjson.gz").read_bytes()
    assert data[:10] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x04\xff"
    assert gzip.decompress(data).count(b"\n") == 2
    manifest = json.loads((archive_dir / result.run / "manifest.json").read_text())
    assert (manifest["version"], manifest["compression"]) == (2, "gzip")


def test_a_manifest_without_compression_is_a_gzip_run():
    """Runs written before zstandard was the default name no compression: their files are
    gzip, and an unfinished one goes on in gzip."""
    assert of_manifest({"format": "auditportal-retention-archive", "version": 1}) is GZIP
    assert of_file_name("events-0003.ndjson.gz") is GZIP
    assert of_file_name("events-0003.ndjson.zst") is ZSTD
    with pytest.raises(ValueError, match="not an archive file name"):
        of_file_name("events-0003.json")


def test_an_archive_in_a_folder_is_read_back_file_by_file(archive_dir):
    store_events(403, 402, 401)
    result = apply_retention(RetentionPolicy(365), archive=archive_dir, part_size=1)
    names = [entry["name"] for entry in ArchiveRun.load(archive_dir, result.run).files]
    originals = [(archive_dir / result.run / name).read_bytes() for name in names]
    # A file that no longer matches its manifest is refused; the others are still read.
    (archive_dir / result.run / names[0]).write_bytes(gzip.compress(b"{}\n"))

    seen = []
    with archive_files(str(archive_dir)) as files:
        for file in files:
            if file.path is not None:
                # Only the copy being read is on disk: the previous one is gone.
                assert [path.name for path in file.path.parent.iterdir()] == [file.path.name]
            seen.append((file.location, file.error, file.path and file.path.read_bytes()))

    locations = [str(archive_dir / result.run / name) for name in names]
    assert [location for location, _, _ in seen] == locations
    assert seen[0][1] == f"{locations[0]} does not match its manifest's SHA-256"
    assert seen[0][2] is None
    assert [(error, data) for _, error, data in seen[1:]] == [("", data) for data in originals[1:]]

    # An importer may remove its copy itself.
    with archive_files(str(archive_dir)) as files:
        read = []
        for file in files:
            if file.path is not None:
                read.append(file.path.read_bytes())
                file.path.unlink()
    assert read == originals[1:]


def test_an_archive_with_no_runs_has_no_files_and_a_missing_run_is_named(archive_dir):
    archive_dir.mkdir()
    with archive_files(str(archive_dir)) as files:
        assert list(files) == []
    with (
        pytest.raises(ArchiveStoreError, match=f"No retention run retention-x under {archive_dir}"),
        archive_files(str(archive_dir / "retention-x")),
    ):
        pass


def test_an_unknown_archive_compression_stops_the_portal_from_starting(tmp_path):
    """A misspelt setting is refused at start, not when a run first archives."""
    database = ProcessDatabase(f"sqlite:///{tmp_path / 'unused.sqlite3'}")
    completed = manage(database, "check", AUDITPORTAL_ARCHIVE_COMPRESSION="lzma", timeout=60)
    assert completed.returncode != 0
    assert "AUDITPORTAL_ARCHIVE_COMPRESSION is 'lzma': use zstd or gzip" in completed.stderr


@pytest.mark.parametrize(
    "content", [b"not json", b"[" * 100_000 + b"]" * 100_000, b'{"status": "done"}']
)
def test_a_manifest_that_is_not_one_is_refused_naming_it(tmp_path, content):
    """Whoever can write the archive folder may put anything in a manifest."""
    run = tmp_path / "retention-x"
    run.mkdir()
    (run / "manifest.json").write_bytes(content)
    with pytest.raises(ArchiveStoreError, match=r"manifest\.json"):
        LocalStore(tmp_path).load_manifest("retention-x")


GOOD_ENTRY = {"name": "events-0001.ndjson.zst", "sha256": "0" * 64, "events": 1}


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({**GOOD_ENTRY, "name": "../../etc/passwd"}, "name"),
        ({**GOOD_ENTRY, "name": "/tmp/x"}, "name"),
        ({"sha256": "0" * 64, "events": 1}, "name"),
        ({**GOOD_ENTRY, "sha256": "zz"}, "sha256"),
        ({**GOOD_ENTRY, "events": "1"}, "events"),
        ({**GOOD_ENTRY, "categories": {"Policy": "x"}}, "categories"),
        ({**GOOD_ENTRY, "oldest": 5}, "oldest"),
        ("events-0001.ndjson.zst", None),
    ],
)
def test_a_manifest_entry_that_is_not_one_is_refused_naming_it(tmp_path, entry, field):
    run = tmp_path / "retention-x"
    run.mkdir()
    manifest = {"format": ARCHIVE_FORMAT, "files": [GOOD_ENTRY, entry]}
    (run / "manifest.json").write_text(json.dumps(manifest))
    expected = f"file 2: field '{field}'" if field else "file 2: not a JSON object"
    with pytest.raises(ArchiveStoreError, match=expected):
        LocalStore(tmp_path).load_manifest("retention-x")
