"""Retention test data: events imported the way files are, dated relative to now."""

import gzip
import json
from datetime import timedelta

import zstandard
from django.utils import timezone

from logs.ingest.generated import store_generated_records
from tests.factories import GraphDirectoryAuditFactory


def store_events(*ages_in_days, category=None, now=None) -> list[str]:
    """Import one event per age (days before ``now``, by default the present); returns their
    activity ids."""
    now = now or timezone.now()
    extra = {"category": category} if category else {}
    records = [
        GraphDirectoryAuditFactory(moment=now - timedelta(days=age, minutes=number), **extra)
        for number, age in enumerate(ages_in_days)
    ]
    result = store_generated_records(records, label="retention test")
    assert result.new == len(records), result.errors
    return [record["id"] for record in records]


def decompressed(data: bytes) -> bytes:
    """An archive file's text, zstandard (every frame) or gzip, told apart by its first bytes
    as the importer tells them."""
    if data.startswith(b"\x1f\x8b"):
        return gzip.decompress(data)
    with zstandard.ZstdDecompressor().stream_reader(data, read_across_frames=True) as stream:
        return stream.read()


def archive_records(directory) -> list[dict]:
    """Every record in every archive file under ``directory``, file by file, line by line."""
    records = []
    for path in sorted(directory.rglob("events-*.ndjson.*")):
        text = decompressed(path.read_bytes())
        records.extend(json.loads(line) for line in text.splitlines())
    return records


def manifests(directory) -> list[dict]:
    return [
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(directory.glob("retention-*/manifest.json"))
    ]
