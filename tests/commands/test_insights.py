"""``insights``: the compliance answers as readable text or as the API's JSON; ``audit_report``,
its former name, runs the same command."""

import json

import pytest
from django.core.management import CommandError, call_command

from logs.ingest.importer import import_file
from tests.support import FIXTURES_DIR

pytestmark = pytest.mark.django_db

DAY = ["--since", "2026-11-02T00:00:00Z", "--until", "2026-11-03T00:00:00Z"]


@pytest.fixture(autouse=True)
def six_events():
    assert import_file(FIXTURES_DIR / "portal-json" / "AuditLogs_2026-11-02.json").ok


def run(*args, command="insights") -> str:
    from io import StringIO

    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def test_text_report(capsys):
    text = run(*DAY)
    assert "6 events, 1 failures" in text
    assert text.startswith("Compliance answers, 2026-11-02 00:00:00 UTC to 2026-11-03 00:00:00 UTC")
    assert "Changes applied to users, by activity: 1" in text
    assert "failed attempts: 1" in text
    assert "Payroll Sync → Payroll Connector" in text
    assert "added as owner of Ventes Région Île-de-France" in text


def test_json_is_what_the_api_returns(api):
    from_command = json.loads(run(*DAY, "--format", "json"))
    from_api = api.get(
        "/api/v1/insights/", {"since": "2026-11-02T00:00:00Z", "until": "2026-11-03T00:00:00Z"}
    ).json()
    assert from_command == from_api


def test_service_and_informational_options():
    body = json.loads(run(*DAY, "--exclude-informational", "--format", "json"))
    assert body["totals"]["events"] == 5
    body = json.loads(
        run(*DAY, "--service", "Self-service Password Management", "--format", "json")
    )
    assert body["totals"]["events"] == 1


def test_bad_dates_and_services_are_errors_a_person_can_act_on():
    with pytest.raises(CommandError, match="--since"):
        run("--since", "last tuesday")
    with pytest.raises(CommandError, match="--service"):
        run("--service", "Nope")
    with pytest.raises(CommandError, match=r"--until.*give since too"):
        run("--until", "0001-01-01T00:00:00Z")


def test_the_former_name_runs_the_same_command():
    assert run(*DAY, command="audit_report") == run(*DAY)
    assert json.loads(run(*DAY, "--format", "json", command="audit_report")) == json.loads(
        run(*DAY, "--format", "json")
    )
    with pytest.raises(CommandError, match="--service"):
        run("--service", "Nope", command="audit_report")
