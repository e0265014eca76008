"""The offline verifier: no Django, the export format it reads, and the canonical encoding
it shares with the portal."""

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditportal_verify.__main__ import verify
from auditportal_verify.chain import CHAIN_FIELDS, chain_record
from logs.models import AuditEvent
from tests.digests.support import export_chain, run_offline
from tests.retention.support import store_events

ROOT = Path(__file__).resolve().parent.parent.parent

pytestmark = pytest.mark.django_db


def test_it_runs_without_django_and_prints_what_it_proved(signing):
    store_events(1, 2, 3)
    store_events(4)
    export = export_chain(signing.tmp / "chain.ndjson")
    # Django must not be imported along the way: an auditor's machine has none.
    program = (
        "import sys, runpy\n"
        "sys.argv = ['auditportal_verify', *sys.argv[1:]]\n"
        "try:\n"
        "    runpy.run_module('auditportal_verify', run_name='__main__')\n"
        "except SystemExit as stop:\n"
        "    assert 'django' not in sys.modules, 'django was imported'\n"
        "    raise\n"
    )
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            program,
            str(export),
            str(signing.digest_dir),
            "--public-key",
            str(signing.public_key),
        ],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.startswith("OK: positions 1\u20134, 0 gaps, 4 events, signed by key ")
    assert "SHA256:" in completed.stdout and "(#2)" in completed.stdout


def test_the_chain_export_carries_what_each_link_covers(signing):
    store_events(1, 2)
    lines = export_chain(signing.tmp / "chain.ndjson").read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    assert [row["chain_seq"] for row in rows] == [1, 2]
    for row in rows:
        event = AuditEvent.objects.get(chain_seq=row["chain_seq"])
        assert row["event_id"] == event.pk
        assert row["chain_link"] == bytes(event.chain_link).hex()
        assert tuple(row[name] for name in CHAIN_FIELDS) == event.chain_fields()


def test_a_damaged_export_line_is_named(signing):
    store_events(1, 2)
    export = export_chain(signing.tmp / "chain.ndjson")
    lines = export.read_text().splitlines()
    row = json.loads(lines[1])
    del row["original"]
    lines[1] = json.dumps(row)
    export.write_text("\n".join(lines) + "\n")
    out = StringIO()
    assert verify(export, signing.digest_dir, [signing.public_key], out=out) == 2
    assert f"{export}: line 2: field 'original' missing" in out.getvalue()


def test_a_missing_digest_folder_is_refused(signing):
    store_events(1)
    code, output = run_offline(signing)
    assert code == 0, output
    for path in signing.digest_files():
        path.unlink()
    code, output = run_offline(signing)
    assert code == 1
    assert "refused: no digest files" in output


@given(
    st.lists(
        st.one_of(st.text(), st.none(), st.integers(min_value=-(2**63), max_value=2**63 - 1)),
        min_size=len(CHAIN_FIELDS),
        max_size=len(CHAIN_FIELDS),
    ),
    st.integers(min_value=1, max_value=2**62),
)
def test_the_standard_library_encodes_a_chain_record_as_the_portal_does(fields, seq):
    # The portal hashes orjson's bytes; the offline verifier has only the json module.
    assert chain_record(seq, fields) == orjson.dumps((seq, *fields))


def test_the_chain_export_refuses_filters_which_would_leave_gaps(signing):
    from django.core.management import CommandError, call_command

    store_events(1, 2)
    with pytest.raises(CommandError, match="--format chain exports the whole chain"):
        call_command(
            "export_audit_logs",
            "--format",
            "chain",
            "--result",
            "success",
            "--output",
            str(signing.tmp / "x.ndjson"),
        )
    assert not (signing.tmp / "x.ndjson").exists()


def test_an_event_stored_with_notes_verifies_offline_and_its_notes_are_covered(signing):
    """Notes close an event's chain record when it has any: the export carries them, the
    offline verifier hashes them, and an export that drops them no longer verifies."""
    from logs.ingest.importer import import_file
    from tests.factories import GraphDirectoryAuditFactory
    from tests.ingest.test_azure_monitor import monitor_record
    from tests.ingest.test_bad_input import write_json

    store_events(1)
    record = monitor_record(GraphDirectoryAuditFactory(result=0))
    result = import_file(write_json(signing.tmp / "m.json", {"records": [record]}))
    assert (result.new, result.with_notes) == (1, 1)

    code, out = run_offline(signing)
    assert code == 0, out
    export = signing.tmp / "chain.ndjson"
    rows = [json.loads(line) for line in export.read_text().splitlines()]
    assert [bool(row["normalisation_notes"]) for row in rows] == [False, True]

    rows[1]["normalisation_notes"] = ""
    export.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    out = StringIO()
    assert verify(export, signing.digest_dir, [signing.public_key], out=out) != 0
    assert "rewritten" in out.getvalue() or "modified" in out.getvalue(), out.getvalue()
