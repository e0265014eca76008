"""Two import processes at once, on files that share some records: every record is stored once,
neither process fails, and the integrity chain holds (as with several scheduled importers)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from logs.demo_data import generate_records
from logs.integrity import verify_chain
from logs.models import AuditEvent

ROOT = Path(__file__).resolve().parents[2]
RECORDS = 900
SHARED = 300  # the records both files hold


def _database_url() -> str:
    settings = connection.settings_dict
    return (
        f"postgres://{settings['USER']}:{settings['PASSWORD'] or ''}@"
        f"{settings['HOST'] or 'localhost'}:{settings['PORT'] or 5432}/{settings['NAME']}"
    )


def _graph_file(path: Path, records: list[dict]) -> Path:
    path.write_text(json.dumps({"value": records}), encoding="utf-8")
    return path


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_overlapping_files_imported_by_two_processes_at_once(tmp_path):
    records = list(generate_records(RECORDS, seed=11))
    half = (RECORDS + SHARED) // 2
    first = _graph_file(tmp_path / "first.json", records[:half])
    second = _graph_file(tmp_path / "second.json", records[half - SHARED :])
    environment = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
    }
    processes = [
        subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "import_audit_logs", str(path)],
            env=environment,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in (first, second)
    ]
    outcomes = [process.communicate(timeout=300) for process in processes]

    for process, (_, errors) in zip(processes, outcomes, strict=True):
        assert process.returncode == 0, errors
    assert AuditEvent.objects.count() == RECORDS
    assert set(AuditEvent.objects.values_list("entra_id", flat=True)) == {
        record["id"] for record in records
    }
    result = verify_chain()
    assert result.ok, result.broken
    assert result.events == RECORDS
