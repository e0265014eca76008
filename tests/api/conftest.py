"""API test setup: a signed-in Audit Reader, and the six real-format sample events."""

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from logs.ingest.importer import import_file
from tests.conftest import FIXTURES_DIR

SIX_EVENTS_FILE = FIXTURES_DIR / "portal-json" / "AuditLogs_2026-11-02.json"
EVENTS_URL = "/api/v1/events/"

# The sample file's events, newest first, by activity name.
SIX_ACTIVITIES_NEWEST_FIRST = [
    "Update policy",
    "Add owner to group",
    "Update application",
    "Reset password (self-service)",
    "Update group",
    "Update user",
]


def view_events_permission():
    return Permission.objects.get(content_type__app_label="logs", codename="view_auditevent")


@pytest.fixture
def reader(django_user_model):
    user = django_user_model.objects.create_user("reader", password="unused-password")
    user.user_permissions.add(view_events_permission())
    return user


@pytest.fixture
def api(reader):
    client = APIClient()
    client.force_login(reader)
    return client


@pytest.fixture
def six_events(db):
    result = import_file(SIX_EVENTS_FILE)
    assert (result.new, result.rejected) == (6, 0)
    return result


def activities(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [event["activity"] for event in response.json()["results"]]
