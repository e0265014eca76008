import pytest
from django.contrib.auth.models import Permission

from logs.ingest.importer import import_file
from tests.conftest import FIXTURES_DIR

CHANGELIST = "/admin/logs/auditevent/"


@pytest.fixture
def imported(db):
    """The portal-JSON and Graph fixtures: eight events with known values."""
    for path in [
        "portal-json/AuditLogs_2026-11-02.json",
        "graph/graph-docs-list-example1.json",
        "graph/graph-docs-list-example2.json",
    ]:
        assert import_file(FIXTURES_DIR / path).ok


@pytest.fixture
def reader(django_user_model):
    """A staff user who may only view audit events (no superuser shortcuts)."""
    user = django_user_model.objects.create_user("reader", password="pw-reader-123", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    return user


@pytest.fixture
def reader_client(client, reader):
    client.force_login(reader)
    return client


def listed(response) -> list:
    """The events a changelist response shows, in order."""
    assert response.status_code == 200, response
    return list(response.context_data["cl"].result_list)


def activities(response) -> list[str]:
    return [event.activity.name for event in listed(response)]
