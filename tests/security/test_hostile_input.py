"""Hostile values in audit records are shown as text everywhere, never run.

Display names, activity names, modified property values and additional details come from
whoever can change a directory object, so each is a way in for markup. Imported through the
real loader, they must come out escaped in the changelist, the detail page, Insights and the
browsable API, and neutralised in CSV.
"""

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from rest_framework.test import APIClient

from logs.ingest.importer import import_file
from logs.models import AuditEvent
from logs.roles import AUDIT_EXPORTER

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
IMAGE = '"><img src=x onerror=alert(1)>'
PAYLOADS = [SCRIPT, IMAGE]
ESCAPED = {
    SCRIPT: "&lt;script&gt;alert(1)&lt;/script&gt;",
    IMAGE: "&gt;&lt;img src=x onerror=alert(1)&gt;",
}
FORMULA = '=HYPERLINK("http://attacker.example/","open")'
CHANGELIST = "/admin/logs/auditevent/"


def hostile_record() -> dict:
    when = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
    return {
        "id": "hostile-1",
        "category": "UserManagement",
        "correlationId": "c0ffee00-0000-4000-8000-000000000001",
        "result": "success",
        "resultReason": SCRIPT,
        "activityDisplayName": f"Update user {SCRIPT}",
        "activityDateTime": when,
        "loggedByService": "Core Directory",
        "operationType": "Update",
        "initiatedBy": {
            "user": {
                "id": "4b1f0b1e-0000-4000-8000-000000000002",
                "displayName": f"Mallory {IMAGE}",
                "userPrincipalName": "mallory@contoso.com",
                "ipAddress": "203.0.113.9",
            }
        },
        "targetResources": [
            {
                "id": "7a6b0c1d-0000-4000-8000-000000000003",
                "displayName": f"Victim {IMAGE}",
                "type": "User",
                "userPrincipalName": "victim@contoso.com",
                "modifiedProperties": [
                    {
                        "displayName": "DisplayName",
                        "oldValue": f'["{SCRIPT}"]',
                        "newValue": FORMULA,
                    },
                    {"displayName": f"Odd {IMAGE}", "oldValue": None, "newValue": IMAGE},
                ],
            }
        ],
        "additionalDetails": [{"key": "User-Agent", "value": f"agent {IMAGE}"}],
    }


@pytest.fixture
def hostile_event(tmp_path):
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps({"value": [hostile_record()]}))
    assert import_file(path, format="graph").ok
    return AuditEvent.objects.get(entra_id="hostile-1")


@pytest.fixture
def exporter(django_user_model):
    user = django_user_model.objects.create_user("exporter", is_staff=True)
    user.groups.add(Group.objects.get(name=AUDIT_EXPORTER))
    return user


@pytest.fixture
def portal(exporter):
    client = Client()
    client.force_login(exporter)
    return client


def assert_shown_escaped(response, payloads=PAYLOADS):
    assert response.status_code == 200, response
    html = response.content.decode()
    for payload in payloads:
        assert payload not in html
        assert ESCAPED[payload] in html, f"{payload!r} is not shown at all"
    assert "<script>alert" not in html and "<img src=x" not in html


def test_changelist_escapes_names(portal, hostile_event):
    assert_shown_escaped(portal.get(CHANGELIST))


def test_detail_page_escapes_names_values_and_details(portal, hostile_event):
    response = portal.get(f"{CHANGELIST}{hostile_event.pk}/change/")
    assert_shown_escaped(response)


def test_insights_escapes_activity_names(portal, hostile_event):
    assert_shown_escaped(portal.get(f"{CHANGELIST}insights/"), payloads=[SCRIPT])


@pytest.mark.parametrize("detail", [False, True])
def test_browsable_api_escapes_everything(exporter, hostile_event, detail):
    client = APIClient()
    client.force_login(exporter)
    url = f"/api/v1/events/{hostile_event.pk}/" if detail else "/api/v1/events/"
    response = client.get(url, {"format": "api"})
    html = response.content.decode()
    assert response.status_code == 200
    for payload in PAYLOADS:
        assert payload not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_csv_cells_are_quoted_and_formulas_neutralised(exporter, hostile_event):
    client = APIClient()
    client.force_login(exporter)
    response = client.get("/api/v1/events/", {"format": "csv"})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode().lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    cells = [cell for row in rows[1:] for cell in row]
    assert f"'{FORMULA}" in cells
    assert FORMULA not in cells
    assert any(IMAGE in cell for cell in cells), "a quote inside a cell survives the quoting"
    assert all(not cell.startswith(("=", "+", "-", "@")) for cell in cells if cell.strip())


def test_admin_action_without_the_csrf_token_is_refused(exporter, hostile_event):
    client = Client(enforce_csrf_checks=True)
    client.force_login(exporter)
    response = client.post(
        CHANGELIST,
        {"action": "export_selected_csv", "_selected_action": [str(hostile_event.pk)]},
    )
    assert response.status_code == 403
    assert b"CSRF" in response.content


def test_column_choice_without_the_csrf_token_is_refused(exporter):
    client = Client(enforce_csrf_checks=True)
    client.force_login(exporter)
    assert client.post(f"{CHANGELIST}columns/", {"columns": ["activity"]}).status_code == 403
