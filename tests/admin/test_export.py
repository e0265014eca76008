"""Download from the changelist: the current filtered view, the chosen columns, the cap's notice,
the export actions, and the permission."""

import csv
import io
import json
import re
from html import unescape

import pytest
from django.contrib.auth.models import Permission

from logs.admin.pagination import EstimatedCountPaginator
from logs.exports.csv_files import PORTAL_HEADER
from logs.models import AccessRecord, AuditEvent, ColumnPreference
from tests.exports.support import served_records
from tests.factories import AuditEventFactory
from tests.support import CHANGELIST

pytestmark = pytest.mark.django_db

EXPORT_CSV = f"{CHANGELIST}export/csv/"
EXPORT_ENTRA_CSV = f"{CHANGELIST}export/entra-csv/"
EXPORT_JSON = f"{CHANGELIST}export/json/"


@pytest.fixture
def exporter_client(client, reader):
    reader.user_permissions.add(Permission.objects.get(codename="export_auditevent"))
    client.force_login(reader)
    return client


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_download_is_the_filtered_view_with_the_chosen_columns(exporter_client, reader, imported):
    ColumnPreference.objects.create(user=reader, columns=["activity", "status"])
    rows = csv_rows(exporter_client.get(EXPORT_CSV, {"category": "GroupManagement"}))
    expected = AuditEvent.objects.filter(category__name="GroupManagement").order_by(
        "-activity_datetime", "-id"
    )
    assert rows[0] == ["Activity", "Status"]
    assert [row[0] for row in rows[1:]] == [event.activity.name for event in expected]
    assert len(rows) - 1 == expected.count() > 0


def download_link(page_response, format="csv") -> str:
    html = page_response.content.decode()
    match = re.search(rf'id="download-{format}" href="([^"]*)"', html)
    assert match, "no Download link on the page"
    return unescape(match.group(1))


def test_download_holds_every_page_not_only_the_one_on_screen(exporter_client, monkeypatch):
    monkeypatch.setattr("logs.admin.events.AuditEventAdmin.list_per_page", 2)
    for _ in range(5):
        AuditEventFactory(result="failure")
    page_two = exporter_client.get(CHANGELIST, {"result": "failure", "p": "2"})
    assert len(page_two.context_data["cl"].result_list) == 2
    rows = csv_rows(exporter_client.get(download_link(page_two)))
    assert len(rows) - 1 == 5


def test_download_follows_search_and_sort(exporter_client, imported):
    newest_first = csv_rows(exporter_client.get(EXPORT_CSV, {"search": "Update"}))[1:]
    oldest_first = csv_rows(
        exporter_client.get(EXPORT_CSV, {"search": "Update", "ordering": "date"})
    )
    assert newest_first == oldest_first[1:][::-1]
    assert all("Update" in row[3] for row in newest_first)
    # The date column ascending (column 0 holds the action checkboxes).
    sorted_view = exporter_client.get(CHANGELIST, {"q": "Update", "o": "1"})
    assert download_link(sorted_view) == f"{EXPORT_CSV}?search=Update&ordering=date"


def test_json_download_is_the_records_as_graph_serves_them(exporter_client, imported):
    response = exporter_client.get(EXPORT_JSON, {"result": "failure"})
    records = json.loads(b"".join(response.streaming_content))
    expected = AuditEvent.objects.filter(result="failure").order_by("-activity_datetime", "-id")
    assert records == served_records(expected)
    assert len(records) > 0


def test_download_needs_the_export_permission(reader_client, imported):
    assert reader_client.get(EXPORT_CSV).status_code == 403


def test_a_refused_download_is_a_portal_page_naming_the_roles_that_allow_it(
    reader_client, imported
):
    response = reader_client.get(EXPORT_CSV, {"category": "GroupManagement"})
    assert response.status_code == 403
    page = response.content.decode()
    assert '<header id="header">' in page and "Audit events</a>" in page  # the portal's frame
    assert "Downloading events needs a role you do not hold." in page
    assert "<strong>Audit Exporter</strong> and <strong>Compliance Administrator</strong>" in page
    assert "<code>logs.export_auditevent</code>" in page
    assert "signed in as <strong>reader</strong>" in page
    html = reader_client.get(CHANGELIST).content.decode()
    assert "Download" not in html and "export_selected_csv" not in html


def test_download_button_carries_the_current_filters(exporter_client, imported):
    html = exporter_client.get(CHANGELIST, {"category": "GroupManagement", "p": "1"}).content
    assert f'href="{EXPORT_CSV}?category=GroupManagement"'.encode() in html


def test_each_download_is_recorded(exporter_client, reader, imported):
    csv_rows(exporter_client.get(EXPORT_CSV, {"category": "GroupManagement"}))
    record = AccessRecord.objects.get(action=AccessRecord.Action.EXPORT)
    assert record.user == reader and record.action == AccessRecord.Action.EXPORT
    assert record.detail["filters"] == {"category": "GroupManagement"}
    assert record.detail["via"] == "admin download" and record.detail["format"] == "csv"
    assert record.row_count == AuditEvent.objects.filter(category__name="GroupManagement").count()


def test_the_page_says_before_the_download_when_the_cap_applies(
    exporter_client, imported, monkeypatch
):
    monkeypatch.setattr("logs.admin.events.WEB_EXPORT_LIMIT", 3)
    html = exporter_client.get(CHANGELIST).content.decode()
    assert 'class="export-limit-notice"' in html
    assert "a download will hold the newest 3" in " ".join(html.split())
    rows = csv_rows(exporter_client.get(EXPORT_CSV))
    assert len(rows) - 1 == 3
    assert AccessRecord.objects.get(action=AccessRecord.Action.EXPORT).detail["truncated"] is True
    assert (
        'class="export-limit-notice"'
        not in exporter_client.get(CHANGELIST, {"result": "failure"}).content.decode()
    )


def test_the_notice_uses_the_estimate_beyond_the_exact_count(
    exporter_client, imported, monkeypatch
):
    monkeypatch.setattr("logs.admin.events.WEB_EXPORT_LIMIT", 3)
    monkeypatch.setattr(EstimatedCountPaginator, "is_estimate", True)
    assert "holds about 8 events" in " ".join(
        exporter_client.get(CHANGELIST).content.decode().split()
    )


@pytest.mark.parametrize("action", ["export_selected_csv", "export_selected_json"])
def test_export_selected_actions(exporter_client, imported, action):
    chosen = list(AuditEvent.objects.order_by("id").values_list("pk", flat=True)[:2])
    response = exporter_client.post(
        CHANGELIST, {"action": action, "_selected_action": [str(pk) for pk in chosen]}
    )
    assert response.status_code == 200 and response.streaming
    text = b"".join(response.streaming_content).decode()
    if action.endswith("json"):
        assert len(json.loads(text)) == 2
    else:
        assert len(list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))) == 3
    assert (
        AccessRecord.objects.get(action=AccessRecord.Action.EXPORT).detail["via"] == "admin action"
    )


def test_csv_in_the_entra_format_has_all_its_columns_for_the_same_events(
    exporter_client, reader, imported
):
    ColumnPreference.objects.create(user=reader, columns=["activity", "status"])
    query = {"category": "GroupManagement"}
    view = exporter_client.get(EXPORT_CSV, query)
    entra = exporter_client.get(EXPORT_ENTRA_CSV, query)
    view_rows, entra_rows = csv_rows(view), csv_rows(entra)
    assert view_rows[0] == ["Activity", "Status"]
    assert entra_rows[0] == PORTAL_HEADER and len(PORTAL_HEADER) == 86
    activity = PORTAL_HEADER.index("Activity")
    assert [row[activity] for row in entra_rows[1:]] == [row[0] for row in view_rows[1:]]
    # The file names say which is which.
    assert re.fullmatch(
        r'attachment; filename="auditlogs-\d{8}-\d{6}-chosen-columns\.csv"',
        view["Content-Disposition"],
    )
    assert re.fullmatch(
        r'attachment; filename="auditlogs-\d{8}-\d{6}-entra-format\.csv"',
        entra["Content-Disposition"],
    )
    layouts = [
        (record.detail["layout"], record.detail["columns"])
        for record in AccessRecord.objects.filter(action="export").order_by("id")
    ]
    assert layouts == [("chosen columns", ["activity", "status"]), ("entra format", None)]


def test_the_download_menu_offers_both_csv_layouts_of_the_current_view(exporter_client, imported):
    page = exporter_client.get(CHANGELIST, {"category": "GroupManagement"}).content.decode()
    assert (
        f'href="{EXPORT_CSV}?category=GroupManagement" download>CSV: the columns of this view (8)'
    ) in page
    assert (
        f'href="{EXPORT_ENTRA_CSV}?category=GroupManagement" download>'
        "CSV: Entra format (all 86 columns)"
    ) in page


def test_an_unknown_download_format_is_not_found(exporter_client, imported):
    assert exporter_client.get(f"{CHANGELIST}export/xlsx/").status_code == 404
