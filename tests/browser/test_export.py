"""Download from the portal in a real browser: filter, click Download, read the file."""

import csv
import json

import pytest

from logs.exports.csv_files import PORTAL_HEADER
from logs.ingest.importer import import_file
from logs.models import AccessRecord, AuditEvent
from tests.browser.support import log_in
from tests.support import FIXTURES_DIR

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def exporter(make_auditor):
    return make_auditor("view_auditevent", "export_auditevent")


def test_download_the_filtered_view_as_csv_and_json(
    page, live_server, exporter, tmp_path, screenshot
):
    assert import_file(FIXTURES_DIR / "portal-json" / "AuditLogs_2026-11-02.json").new == 6
    log_in(page, live_server)
    page.click("#changelist-filter >> text=GroupManagement")
    page.wait_for_url("**category=GroupManagement**")

    page.click(".export-download summary")
    with page.expect_download() as csv_download:
        page.click("#download-csv")
    path = tmp_path / "download.csv"
    csv_download.value.save_as(path)
    with open(path, encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.reader(stream))
    expected = AuditEvent.objects.filter(category__name="GroupManagement").order_by(
        "-activity_datetime", "-id"
    )
    assert rows[0][:4] == ["Date (UTC)", "Service", "Category", "Activity"]
    assert [row[3] for row in rows[1:]] == [event.activity.name for event in expected]
    assert csv_download.value.suggested_filename.endswith("-chosen-columns.csv")

    # The same events in the Entra admin center's own layout, all 86 columns.
    assert page.inner_text("#download-entra-csv") == "CSV: Entra format (all 86 columns)"
    assert page.inner_text("#download-csv") == "CSV: the columns of this view (8)"
    screenshot("download-menu-open")
    with page.expect_download() as entra_download:
        page.click("#download-entra-csv")
    assert entra_download.value.suggested_filename.endswith("-entra-format.csv")
    with open(entra_download.value.path(), encoding="utf-8-sig", newline="") as stream:
        entra_rows = list(csv.reader(stream))
    assert entra_rows[0] == PORTAL_HEADER
    activity = PORTAL_HEADER.index("Activity")
    assert [row[activity] for row in entra_rows[1:]] == [e.activity.name for e in expected]

    with page.expect_download() as json_download:
        page.click("#download-json")
    records = json.loads(json_download.value.path().read_text(encoding="utf-8"))
    assert [record["id"] for record in records] == [event.entra_id for event in expected]

    assert AccessRecord.objects.filter(action="export").count() == 3
