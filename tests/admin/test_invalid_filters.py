"""A filter the FilterSet refuses is said on the page, which then shows no events, keeps what
was given, and offers no download or export; the download endpoints refuse it with a 400.

Django's changelist answers a bad lookup with a redirect to ``?e=1``: every event, no word,
the inputs gone, and a Download there exported everything."""

import pytest
from django.contrib.auth.models import Permission

from logs.models import AccessRecord, AuditEvent
from tests.factories import AuditEventFactory
from tests.support import CHANGELIST, listed

pytestmark = pytest.mark.django_db

# (query, parameter named in the message, the FilterSet's own words)
INVALID = [
    (
        {"since": "2026-11-02T16:00:00Z", "until": "2026-11-02T09:00:00Z"},
        "Since",
        "Must not be later than until.",
    ),
    ({"period": "90d"}, "Period", "Select a valid choice. 90d is not one of the available"),
    ({"service": "Nope"}, "Service", "Select a valid choice."),
    ({"since": "yesterday"}, "Since", "Enter a valid date/time."),
    ({"result": "FAILURE"}, "Status", "Select a valid choice. FAILURE is not one of"),
    ({"categroy": "GroupManagement"}, "categroy", "Unknown parameter."),
    ({"result": "failure", "p": "9"}, "Page", "There is no page 9 in this view: it has 1 page."),
]


@pytest.fixture
def exporter_client(client, reader):
    reader.user_permissions.add(Permission.objects.get(codename="export_auditevent"))
    client.force_login(reader)
    return client


def text(response) -> str:
    return " ".join(response.content.decode().split())


@pytest.mark.parametrize(("query", "label", "message"), INVALID, ids=lambda v: str(v))
def test_the_page_says_what_is_wrong_and_shows_nothing(
    exporter_client, imported, query, label, message
):
    response = exporter_client.get(CHANGELIST, query)
    assert response.status_code == 200
    assert listed(response) == []
    page = text(response)
    assert 'id="filter-problems"' in page
    assert f"<strong>{label}</strong>" in page and message in page
    # No way to export from here: no Download menu, no actions.
    assert 'id="download-csv"' not in page and "export_selected_csv" not in page
    assert 'name="action"' not in page


def test_a_page_past_the_last_of_several_is_said(exporter_client, monkeypatch):
    monkeypatch.setattr("logs.admin.events.AuditEventAdmin.list_per_page", 2)
    for _ in range(5):
        AuditEventFactory()
    response = exporter_client.get(CHANGELIST, {"p": "9"})
    assert response.status_code == 200 and listed(response) == []
    assert "There is no page 9 in this view: it has 3 pages." in text(response)


def test_the_inputs_are_kept_to_be_corrected(exporter_client, imported):
    query = {
        "since": "2026-11-02T16:00:00",
        "until": "2026-11-02T09:00:00",
        "initiator": "zoe",
        "category": "GroupManagement",
    }
    response = exporter_client.get(CHANGELIST, query)
    page = response.content.decode()
    assert 'value="2026-11-02T16:00:00"' in page and 'value="2026-11-02T09:00:00"' in page
    assert 'name="initiator" value="zoe"' in page
    assert 'class="selected">\n    <a href="?category=GroupManagement' in page


@pytest.mark.parametrize(("query", "label", "message"), INVALID[:-1], ids=lambda v: str(v))
@pytest.mark.parametrize("format", ["csv", "json"])
def test_the_download_refuses_an_invalid_filter(
    exporter_client, imported, query, label, message, format
):
    response = exporter_client.get(f"{CHANGELIST}export/{format}/", query)
    assert response.status_code == 400
    assert not response.streaming
    page = text(response)
    assert "Nothing was exported" in page and f"<strong>{label}</strong>" in page
    assert message in page
    assert not AccessRecord.objects.filter(action=AccessRecord.Action.EXPORT).exists()


@pytest.mark.parametrize("name", ["p", "o", "e", "q", "all"])
def test_the_download_takes_only_the_filtersets_parameters(exporter_client, imported, name):
    response = exporter_client.get(f"{CHANGELIST}export/csv/", {name: "1"})
    assert response.status_code == 400
    assert f"<strong>{name}</strong>" in text(response)


def test_an_export_action_posted_with_invalid_filters_exports_nothing(exporter_client, imported):
    some = AuditEvent.objects.values_list("pk", flat=True)[0]
    response = exporter_client.post(
        f"{CHANGELIST}?period=90d",
        {
            "action": "export_selected_csv",
            "select_across": "1",
            "index": "0",
            "_selected_action": [str(some)],
        },
    )
    assert not getattr(response, "streaming", False)
    assert not AccessRecord.objects.filter(action=AccessRecord.Action.EXPORT).exists()
