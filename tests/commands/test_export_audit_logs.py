"""export_audit_logs: formats, filters named as in the API, columns, output, summary, errors."""

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from logs.exports.csv_files import PORTAL_HEADER
from logs.ingest.importer import import_file
from logs.models import AccessRecord, AuditEvent
from tests.exports.support import served_records
from tests.factories import AuditEventFactory, TargetFactory
from tests.support import FIXTURES_DIR

pytestmark = pytest.mark.django_db

SAMPLE = FIXTURES_DIR / "portal-json" / "AuditLogs_2026-11-02.json"


@pytest.fixture
def six_events():
    assert import_file(SAMPLE).new == 6


def export(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("export_audit_logs", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_default_is_portal_csv_on_stdout_with_the_summary_on_stderr(six_events):
    out, err = export()
    rows = list(csv.reader(io.StringIO(out.lstrip("\ufeff"))))
    assert rows[0] == PORTAL_HEADER
    assert len(rows) == 7
    assert err.strip() == "6 events written to standard output"


def test_filters_take_the_api_names(six_events):
    out, _ = export("--format", "ndjson", "--category", "GroupManagement", "--result", "success")
    activities = [json.loads(line)["activityDisplayName"] for line in out.splitlines()]
    expected = AuditEvent.objects.filter(
        category__name="GroupManagement", result="success"
    ).order_by("-activity_datetime", "-id")
    assert activities == [event.activity.name for event in expected]
    assert activities


def test_json_to_a_file_holds_the_records_as_graph_serves_them(six_events, tmp_path):
    path = tmp_path / "out.json"
    out, _ = export("--format", "json", "--output", str(path), "--ordering", "date")
    records = json.loads(path.read_text(encoding="utf-8"))
    assert records == served_records(AuditEvent.objects.order_by("activity_datetime", "id"))
    assert len(records) == 6
    assert out.strip() == f"6 events written to {path}"


def test_columns_choose_the_csv_columns(six_events):
    out, _ = export("--columns", "activity,status")
    rows = list(csv.reader(io.StringIO(out.lstrip("\ufeff"))))
    assert rows[0] == ["Activity", "Status"]
    assert rows[1] == ["Update policy", "Success"]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--since", "yesterday"], "--since"),
        (["--category", "NoSuchCategory"], "--category"),
        (["--informational", "maybe"], "--informational"),
        (["--since", "2026-12-01T00:00:00Z", "--until", "2026-11-01T00:00:00Z"], "--since"),
        (["--columns", "activity,nope"], "--columns"),
        (["--format", "json", "--columns", "activity"], "--columns"),
        (["--output", "/nonexistent-dir/x.csv"], "--output"),
    ],
)
def test_bad_options_fail_naming_the_option(six_events, args, named):
    with pytest.raises(CommandError, match=named):
        export(*args)


def test_formulas_are_neutralised_unless_kept(db):
    TargetFactory(event=AuditEventFactory(), display_name='=HYPERLINK("http://x")')
    neutralised, _ = export()
    kept, _ = export("--keep-formulas")
    assert '"\'=HYPERLINK(""http://x"")"' in neutralised
    assert '"=HYPERLINK(""http://x"")"' in kept and "'=" not in kept


def test_each_run_is_recorded_in_the_access_trail(six_events, tmp_path):
    path = tmp_path / "groups.ndjson"
    export("--format", "ndjson", "--category", "GroupManagement", "--output", str(path))
    record = AccessRecord.objects.get(action=AccessRecord.Action.EXPORT)
    assert record.user is None
    assert record.detail == {
        "via": "command",
        "format": "ndjson",
        "columns": None,
        "filters": {"category": "GroupManagement"},
        "output": str(path),
        "complete": True,
    }
    assert record.row_count == AuditEvent.objects.filter(category__name="GroupManagement").count()
