"""The import command: summary line, exit status, rejects file, dry run, format choice."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from logs.models import AuditEvent, ImportBatch
from tests.factories import GraphDirectoryAuditFactory

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("import_audit_logs", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def page(tmp_path):
    path = tmp_path / "page.json"
    path.write_text(
        json.dumps({"value": [GraphDirectoryAuditFactory() for _ in range(3)]}), encoding="utf-8"
    )
    return path


@pytest.fixture
def page_with_bad_record(tmp_path):
    records = [GraphDirectoryAuditFactory() for _ in range(2)]
    records.append(GraphDirectoryAuditFactory(activityDateTime=None))
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps({"value": records}), encoding="utf-8")
    return path


def test_summary_line_counts_read_new_duplicate_rejected(page):
    out, _ = run(str(page))
    assert out.strip().splitlines()[-1] == "1 file(s): 3 read, 3 new, 0 duplicate, 0 rejected"
    out, _ = run(str(page))
    assert out.strip().splitlines()[-1] == "1 file(s): 3 read, 0 new, 3 duplicate, 0 rejected"
    assert AuditEvent.objects.count() == 3


def test_bad_record_fails_the_command_and_keeps_nothing(page_with_bad_record):
    with pytest.raises(CommandError, match=r"1 rejected, 1 file\(s\) failed"):
        run(str(page_with_bad_record))
    assert AuditEvent.objects.count() == 0
    assert ImportBatch.objects.get().status == ImportBatch.Status.FAILED


def test_continue_on_error_needs_a_rejects_file(page_with_bad_record):
    with pytest.raises(CommandError, match="--continue-on-error needs --rejects"):
        run(str(page_with_bad_record), "--continue-on-error")


def test_continue_on_error_writes_rejects_and_still_exits_non_zero(page_with_bad_record, tmp_path):
    rejects = tmp_path / "rejects.ndjson"
    with pytest.raises(CommandError, match="2 new, 0 duplicate, 1 rejected"):
        run(str(page_with_bad_record), "--continue-on-error", "--rejects", str(rejects))
    assert AuditEvent.objects.count() == 2
    [line] = rejects.read_text(encoding="utf-8").splitlines()
    reject = json.loads(line)
    assert reject["location"] == "record 3"
    assert reject["field"] == "activityDateTime"
    assert reject["error"] == "is missing"
    assert json.loads(reject["record"])["activityDateTime"] is None


def test_dry_run_reports_but_stores_nothing(page):
    out, _ = run(str(page), "--dry-run")
    assert "Dry run (nothing stored): 1 file(s): 3 read, 3 new" in out
    assert AuditEvent.objects.count() == 0


def test_several_files_one_bad(page, tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(CommandError, match=r"2 file\(s\): 3 read, 3 new.*1 file\(s\) failed"):
        run(str(page), str(empty))
    assert AuditEvent.objects.count() == 3


def test_format_that_does_not_fit_is_refused(page):
    with pytest.raises(CommandError):
        run(str(page), "--format", "ndjson")
    assert AuditEvent.objects.count() == 0
    assert "looks like graph" in ImportBatch.objects.get().error


def test_no_progress_bar_when_not_on_a_terminal(page, capsys):
    run(str(page))
    assert capsys.readouterr().err == ""


def test_progress_bar_on_a_terminal(page, capsys, monkeypatch):
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    run(str(page))
    err = capsys.readouterr().err
    assert str(page) in err
    assert "100%" in err


@pytest.fixture
def page_with_odd_values(tmp_path):
    records = [GraphDirectoryAuditFactory() for _ in range(2)]
    records.append(GraphDirectoryAuditFactory(result="Partly"))
    path = tmp_path / "odd.json"
    path.write_text(json.dumps({"value": records}), encoding="utf-8")
    return path


def test_odd_values_are_stored_with_notes_and_counted(page_with_odd_values):
    out, _ = run(str(page_with_odd_values))
    assert out.strip().splitlines()[-1] == (
        "1 file(s): 3 read, 3 new, 1 stored with notes, 0 duplicate, 0 rejected"
    )
    assert ImportBatch.objects.get().records_with_notes == 1


def test_strict_refuses_them_as_before(page_with_odd_values):
    with pytest.raises(CommandError, match=r"1 rejected, 1 file\(s\) failed"):
        run(str(page_with_odd_values), "--strict")
    assert AuditEvent.objects.count() == 0


def test_a_conflict_is_reported_and_the_command_succeeds(page, tmp_path):
    run(str(page))
    records = json.loads(page.read_text(encoding="utf-8"))["value"]
    records[1]["result"] = "failure" if records[1]["result"] != "failure" else "success"
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps({"value": records}), encoding="utf-8")
    rejects = tmp_path / "rejects.ndjson"
    out, err = run(str(changed), "--rejects", str(rejects))
    assert out.strip().splitlines()[-1] == (
        "1 file(s): 3 read, 0 new, 2 duplicate, 1 conflicting (first version kept), 0 rejected"
        f"; rejects written to {rejects}"
    )
    assert f"{changed}, record 2: activity id {records[1]['id']} was already stored" in err
    [entry] = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert (entry["location"], str(page) in entry["kept"]) == ("record 2", True)
