"""The read replica router: read-only work reads the audit log from the replica; everything
else, and every write, uses the primary.

The test settings define "replica" as a test mirror of "default" (one database under two
aliases) with the router off; these tests switch it on. Each query is captured on the alias it
went through. The tests commit (``transaction=True``): the mirror is a second connection, which
does not see what the first wrote in a test's open transaction.
"""

import json
import os
import re
import subprocess
import sys
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connections, router
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from logs.ingest.importer import import_file
from logs.models import (
    AccessRecord,
    AuditEvent,
    ChainCheckpoint,
    ColumnPreference,
    ImportBatch,
    Service,
    Target,
)
from logs.routing import read_only_queries
from tests.retention.support import store_events
from tests.support import FIXTURES_DIR

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])

SIX_EVENTS_FILE = FIXTURES_DIR / "portal-json" / "AuditLogs_2026-11-02.json"
CHANGELIST = "/admin/logs/auditevent/"
AUDIT_LOG_TABLES = {
    "logs_auditevent",
    "logs_target",
    "logs_modifiedproperty",
    "logs_service",
    "logs_category",
    "logs_activity",
    "logs_initiator",
    "logs_targetname",
    "logs_detailslist",
    "logs_useragent",
    "logs_annotation",
    "logs_importbatch",
}
TABLE = re.compile(r'"((?:logs|auth|django|knox|axes)_[a-z_]+)"')
# Retention drops a whole month's partition on PostgreSQL (ALTER ... DETACH, DROP): writes too.
WRITES = ("INSERT", "UPDATE", "DELETE", "ALTER", "DROP")


@pytest.fixture(autouse=True)
def routed(settings):
    settings.DATABASE_ROUTERS = ["logs.routing.ReadReplicaRouter"]


@pytest.fixture
def events():
    assert import_file(SIX_EVENTS_FILE).ok
    return AuditEvent.objects.order_by("id")


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("admin", password="unused"))
    return client


@pytest.fixture
def api(django_user_model):
    client = APIClient()
    client.force_login(django_user_model.objects.create_superuser("api", password="unused"))
    return client


class Captured(SimpleNamespace):
    def tables(self, alias: str) -> set[str]:
        return {name for query in getattr(self, alias) for name in TABLE.findall(query["sql"])}

    def writes(self, alias: str) -> list[str]:
        return [
            query["sql"]
            for query in getattr(self, alias)
            if query["sql"].lstrip().upper().startswith(WRITES)
        ]


@contextmanager
def queries():
    """The queries run inside, per alias: ``.default`` and ``.replica``."""
    with ExitStack() as stack:
        captured = {
            alias: stack.enter_context(CaptureQueriesContext(connections[alias]))
            for alias in ("default", "replica")
        }
        result = Captured()
        yield result
    result.default = captured["default"].captured_queries
    result.replica = captured["replica"].captured_queries


def assert_read_on_replica(captured, table="logs_auditevent"):
    """The audit log was read on the replica only, and nothing was written there."""
    assert table in captured.tables("replica")
    assert captured.tables("replica") <= AUDIT_LOG_TABLES
    assert not captured.writes("replica")
    assert not captured.tables("default") & AUDIT_LOG_TABLES


# -- read-only work reads the audit log from the replica ------------------------------------
def test_changelist_reads_events_on_the_replica_and_the_session_on_the_primary(
    events, admin_client
):
    with queries() as captured:
        response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    assert len(response.context_data["cl"].result_list) == 6
    assert_read_on_replica(captured)
    assert {"django_session", "auth_user", "logs_columnpreference"} <= captured.tables("default")


def test_text_filters_read_their_name_lookups_on_the_replica(events, admin_client):
    with queries() as captured:
        response = admin_client.get(CHANGELIST, {"target": "ventes", "initiator": "zoe"})
    assert len(response.context_data["cl"].result_list) == 1
    assert_read_on_replica(captured, table="logs_targetname")
    assert "logs_initiator" in captured.tables("replica")


def test_detail_and_insights_read_on_the_replica(events, admin_client):
    for url in [f"{CHANGELIST}{events.first().pk}/change/", f"{CHANGELIST}insights/"]:
        with queries() as captured:
            response = admin_client.get(url)
        assert response.status_code == 200, url
        assert_read_on_replica(captured)


def test_api_events_page_reads_on_the_replica(events, api):
    with queries() as captured:
        response = api.get("/api/v1/events/")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 6
    assert_read_on_replica(captured)
    assert "logs_target" in captured.tables("replica")


def test_api_lookups_and_report_read_on_the_replica(events, api):
    with queries() as captured:
        assert api.get("/api/v1/services/").status_code == 200
    assert_read_on_replica(captured, "logs_service")
    with queries() as captured:
        assert api.get("/api/v1/insights/", {"since": "2026-01-01T00:00:00Z"}).status_code == 200
    assert_read_on_replica(captured)


def test_streamed_export_reads_on_the_replica_after_the_view_has_returned(events, api):
    response = api.get("/api/v1/events/", {"format": "ndjson"})
    assert response.status_code == 200
    with queries() as captured:  # the server reads the stream after the view returned
        body = b"".join(response.streaming_content)
        response.close()
    assert len(body.splitlines()) == 6
    assert_read_on_replica(captured)
    # The export's access record is written on the primary.
    assert any("logs_accessrecord" in sql for sql in captured.writes("default"))
    assert AccessRecord.objects.filter(action=AccessRecord.Action.EXPORT, row_count=6).exists()


def test_admin_download_reads_on_the_replica(events, admin_client):
    with queries() as captured:
        response = admin_client.get(f"{CHANGELIST}export/csv/")
        body = b"".join(response.streaming_content)
        response.close()
    assert response.status_code == 200
    assert len(body.splitlines()) == 7  # header and six events
    assert_read_on_replica(captured)


def test_export_command_reads_on_the_replica(events, tmp_path):
    output = tmp_path / "events.json"
    with queries() as captured:
        call_command("export_audit_logs", "--format", "json", "--output", str(output))
    assert len(json.loads(output.read_text(encoding="utf-8"))) == 6
    assert_read_on_replica(captured)
    assert any("logs_accessrecord" in sql for sql in captured.writes("default"))


def test_insights_reads_on_the_replica(events, capsys):
    with queries() as captured:
        call_command("insights", "--since", "2026-01-01T00:00:00Z", "--format", "json")
    assert json.loads(capsys.readouterr().out)["totals"]["events"] == 6
    assert_read_on_replica(captured)


# -- everything else stays on the primary ---------------------------------------------------
def test_sign_in_and_its_access_record_use_the_primary(django_user_model, client):
    django_user_model.objects.create_user("person", password="pw-person-123", is_staff=True)
    with queries() as captured:
        response = client.post("/admin/login/", {"username": "person", "password": "pw-person-123"})
    assert response.status_code == 302
    assert not captured.replica
    assert {"auth_user", "django_session", "logs_accessrecord"} <= captured.tables("default")


def test_only_audit_log_reads_of_read_only_work_go_to_the_replica():
    with read_only_queries():
        for model in [AuditEvent, Target, Service, ImportBatch]:
            assert router.db_for_read(model) == "replica"
        for model in [Session, User, Permission, AccessRecord, ColumnPreference, ChainCheckpoint]:
            assert router.db_for_read(model) == "default"
        for model in [AuditEvent, AccessRecord, Session]:
            assert router.db_for_write(model) == "default"
    assert router.db_for_read(AuditEvent) == "default"


def test_writes_inside_read_only_work_go_to_the_primary():
    with queries() as captured, read_only_queries():
        AccessRecord.objects.create(action=AccessRecord.Action.EXPORT, username="someone")
    assert not captured.replica
    assert captured.writes("default")


def test_migrations_and_relations():
    assert router.allow_migrate("default", "logs")
    assert not router.allow_migrate("replica", "logs")
    event, user = AuditEvent(), User()
    event._state.db, user._state.db = "replica", "default"
    assert router.allow_relation(event, user)


def test_audit_log_reads_outside_read_only_work_use_the_primary(events):
    with queries() as captured:
        assert AuditEvent.objects.for_listing().count() == 6
    assert not captured.replica


def test_import_reads_and_writes_on_the_primary():
    with queries() as captured:
        assert import_file(SIX_EVENTS_FILE).ok
    assert not captured.replica
    assert "logs_auditevent" in captured.tables("default")


def test_retention_reads_and_writes_on_the_primary(tmp_path):
    store_events(400, 401, 1)
    with queries() as captured:
        call_command("apply_retention", "--archive-dir", str(tmp_path), "--days", "365")
    assert AuditEvent.objects.count() == 1
    assert not captured.replica
    assert any("logs_auditevent" in sql for sql in captured.writes("default"))


@pytest.mark.django_db(transaction=True, databases=["default"])
def test_without_a_replica_everything_uses_the_primary(events, admin_client, settings, monkeypatch):
    monkeypatch.delitem(settings.DATABASES, "replica")
    with CaptureQueriesContext(connections["default"]) as captured:
        response = admin_client.get(CHANGELIST)
        with read_only_queries():
            assert router.db_for_read(AuditEvent) == "default"
    assert len(response.context_data["cl"].result_list) == 6
    assert any("logs_auditevent" in query["sql"] for query in captured.captured_queries)


# -- settings ---------------------------------------------------------------------------------
PRINT_DATABASES = (
    "import json; from auditportal import settings as s; "
    "print(json.dumps([sorted(s.DATABASES), getattr(s, 'DATABASE_ROUTERS', []), "
    "s.DATABASES.get('replica', {}).get('NAME')]))"
)


@pytest.mark.django_db(databases=[])
@pytest.mark.parametrize(
    ("replica_url", "expected"),
    [
        ("", [["default"], [], None]),
        (
            "postgres://reader@replica.example.com:5432/auditportal",
            [["default", "replica"], ["logs.routing.ReadReplicaRouter"], "auditportal"],
        ),
    ],
)
def test_database_replica_url_adds_the_replica_and_its_router(replica_url, expected):
    environment = {**os.environ, "DEBUG": "1", "DATABASE_REPLICA_URL": replica_url}
    completed = subprocess.run(
        [sys.executable, "-c", PRINT_DATABASES],
        env=environment,
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == expected
