"""An archive file's line for an event is that event's record as ``export_audit_logs --format
ndjson`` writes it, whatever format it was imported from: the archive and the export are two
paths to one record, so they must agree for every sample file."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from logs.ingest.importer import import_file
from logs.models import AuditEvent
from logs.retention.policy import RetentionPolicy
from logs.retention.run import apply_retention
from tests.factories import AuditEventFactory, GraphDirectoryAuditFactory
from tests.retention.support import decompressed
from tests.support import FIXTURES_DIR

pytestmark = pytest.mark.django_db


def test_every_format_is_archived_as_the_export_writes_it(tmp_path):
    for path in sorted(FIXTURES_DIR.rglob("*.json")) + sorted(FIXTURES_DIR.rglob("*.csv")):
        assert import_file(path).ok, path
    # Importers store compact JSON; a stored record whose text spans lines is still archived,
    # as it is exported, on one line.
    for source_format in ("graph", "portal-json"):
        record = GraphDirectoryAuditFactory()
        AuditEventFactory(
            entra_id=record["id"],
            source_format=source_format,
            original=json.dumps(record, indent=2),
        )
    formats = set(AuditEvent.objects.values_list("source_format", flat=True))
    assert len(formats) >= 5, formats  # Graph, portal JSON and CSV, Azure Monitor, Log Analytics
    exported = tmp_path / "export.ndjson"
    call_command(
        "export_audit_logs",
        "--format",
        "ndjson",
        "--duplicates",
        "show",  # retention archives every event, duplicates of another format's too
        "--output",
        str(exported),
        stdout=StringIO(),
    )
    export_lines = exported.read_bytes().splitlines()
    stored = AuditEvent.objects.count()

    # Everything expires a century from now.
    result = apply_retention(
        RetentionPolicy(1), archive=tmp_path / "archive", now=timezone.now() + timedelta(days=36500)
    )

    assert result.purged == stored
    archived = []
    for path in sorted((tmp_path / "archive").rglob("events-*.ndjson.zst")):
        archived += decompressed(path.read_bytes()).splitlines()
    assert len(archived) == stored
    assert sorted(archived) == sorted(export_lines)
