"""Helpers the tests share: the sample files, the API's and the changelist's addresses, and
what a list response shows. Plain functions and constants; the fixtures are in conftest.py."""

from pathlib import Path

from django.contrib.auth.models import Permission

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures"

SIX_EVENTS_FILE = FIXTURES_DIR / "portal-json" / "AuditLogs_2026-11-02.json"
EVENTS_URL = "/api/v1/events/"
CHANGELIST = "/admin/logs/auditevent/"

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


def listed(response) -> list:
    """The events a changelist response shows, in order."""
    assert response.status_code == 200, response
    return list(response.context_data["cl"].result_list)


def activities(response) -> list[str]:
    """The activity names of the events a changelist page or an API list shows, in order."""
    if getattr(response, "context_data", None) and "cl" in response.context_data:
        return [event.activity.name for event in listed(response)]
    assert response.status_code == 200, response.content
    return [event["activity"] for event in response.json()["results"]]
