"""An auditor's filters in a real browser: a download holds exactly the view (date preset
included), a filter that cannot be applied is said and shows nothing, and text filters find
a part of a name in any case, with the nearest names offered when nothing matches."""

import csv
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from logs.ingest.importer import import_file
from logs.models import AccessRecord, AuditEvent
from tests.browser.support import CHANGELIST, log_in
from tests.factories import AuditEventFactory, CategoryFactory, InitiatorFactory, TargetFactory
from tests.support import FIXTURES_DIR

pytestmark = pytest.mark.django_db(transaction=True)

# The sidebar's range (the other forms carry the range along in hidden inputs).
RANGE_SINCE = ".portal-date-range input[name=since]"
RANGE_UNTIL = ".portal-date-range input[name=until]"


@pytest.fixture
def evidence():
    """The sample download (six events of 2 November 2026, over a month old) and four recent
    group changes by two people on groups named alike."""
    assert import_file(FIXTURES_DIR / "portal-json" / "AuditLogs_2026-11-02.json").new == 6
    now = timezone.now()
    alex = InitiatorFactory(
        user_principal_name="alex.wilber@contoso.com", user_display_name="Alex Wilber"
    )
    megan = InitiatorFactory(
        user_principal_name="megan.bowen@contoso.com", user_display_name="Megan Bowen"
    )
    groups = CategoryFactory(name="GroupManagement")
    for hours, initiator, name in [
        (2, alex, "Sales EMEA"),
        (30, megan, "Global Sales EMEA Team"),
        (24 * 5, alex, "Finance"),
        (24 * 20, megan, "Sales EMEA"),
    ]:
        event = AuditEventFactory(
            activity_datetime=now - timedelta(hours=hours), initiator=initiator, category=groups
        )
        TargetFactory(event=event, display_name=name, type="Group")


@pytest.fixture
def exporter(make_auditor):
    return make_auditor("view_auditevent", "export_auditevent")


def rows(page) -> int:
    return page.locator("#result_list tbody tr").count()


def target_cells(page) -> list[str]:
    return sorted(page.locator("#result_list td.field-column_targets").all_inner_texts())


def test_download_of_a_date_preset_holds_exactly_the_view(
    page, live_server, exporter, evidence, tmp_path, screenshot
):
    log_in(page, live_server)
    page.click("#changelist-filter >> text=Last 7 days")
    page.wait_for_url("**period=7d**")
    assert rows(page) == 3
    page.click(".export-download summary")
    screenshot("download-last-7-days")
    last_week = AuditEvent.objects.filter(activity_datetime__gte=timezone.now() - timedelta(7))
    expected = sorted(last_week.values_list("entra_id", flat=True))
    assert len(expected) == 3 < AuditEvent.objects.count()

    with page.expect_download() as json_download:
        page.click("#download-json")
    records = json.loads(json_download.value.path().read_text(encoding="utf-8"))
    assert sorted(record["id"] for record in records) == expected

    page.click(".column-chooser summary")
    page.check("input[name=columns][value=activity_id]")
    page.click(".column-chooser-form >> text=Apply")
    page.wait_for_url("**period=7d**")
    page.click(".export-download summary")
    with page.expect_download() as csv_download:
        page.click("#download-csv")
    path = tmp_path / "download.csv"
    csv_download.value.save_as(path)
    with open(path, encoding="utf-8-sig", newline="") as stream:
        table = list(csv.reader(stream))
    column = table[0].index("Activity ID")
    assert sorted(row[column] for row in table[1:]) == expected

    records = AccessRecord.objects.filter(action="export").order_by("pk")
    assert [record.detail["filters"] for record in records] == [{"period": "7d"}] * 2
    assert [record.row_count for record in records] == [3, 3]


def test_a_filter_that_cannot_be_applied_is_said_and_shows_nothing(
    page, live_server, exporter, evidence, screenshot
):
    log_in(page, live_server)
    page.goto(f"{live_server.url}{CHANGELIST}?period=90d&category=GroupManagement")
    problems = page.locator("#filter-problems")
    assert "90d is not one of the available choices" in problems.inner_text()
    assert rows(page) == 0
    assert page.locator(".export-download").count() == 0
    assert page.locator("select[name=action]").count() == 0
    screenshot("invalid-filter-period")

    page.goto(f"{live_server.url}{CHANGELIST}")
    page.fill(RANGE_SINCE, "2026-11-02T16:00:00")
    page.fill(RANGE_UNTIL, "2026-11-02T09:00:00")
    page.click("text=Apply range")
    page.wait_for_url("**since=**")
    assert "Must not be later than until." in page.locator("#filter-problems").inner_text()
    assert rows(page) == 0
    assert page.locator(".export-download").count() == 0
    # The range is kept, to be corrected, in the one form the portal shows times in.
    assert page.input_value(RANGE_SINCE) == "2026-11-02 16:00:00"
    assert page.input_value(RANGE_UNTIL) == "2026-11-02 09:00:00"
    screenshot("invalid-filter-reversed-range")

    page.fill(RANGE_SINCE, "2026-11-02T09:00:00")
    page.fill(RANGE_UNTIL, "2026-11-02T16:00:00")
    page.click("text=Apply range")
    page.wait_for_url("**until=2026-11-02T16**")
    assert page.locator("#filter-problems").count() == 0
    assert rows(page) == 4
    assert page.locator(".export-download").count() == 1


def test_text_filters_find_part_of_a_name_in_any_case(
    page, live_server, auditor, evidence, screenshot
):
    log_in(page, live_server)
    page.fill("input[name=target]", "sales emea")
    page.press("input[name=target]", "Enter")
    page.wait_for_url("**target=sales+emea**")
    assert target_cells(page) == ["Global Sales EMEA Team", "Sales EMEA", "Sales EMEA"]
    screenshot("target-part-of-a-name")

    page.goto(f"{live_server.url}{CHANGELIST}")
    page.fill("input[name=initiator]", "ALEX.WILBER")
    page.press("input[name=initiator]", "Enter")
    page.wait_for_url("**initiator=ALEX.WILBER**")
    assert target_cells(page) == ["Finance", "Sales EMEA"]

    page.goto(f"{live_server.url}{CHANGELIST}")
    page.fill("#searchbar", "SALES emea")
    page.press("#searchbar", "Enter")
    page.wait_for_url("**q=SALES+emea**")
    assert target_cells(page) == ["Global Sales EMEA Team", "Sales EMEA", "Sales EMEA"]


def test_an_empty_view_offers_the_nearest_names(page, live_server, auditor, evidence, screenshot):
    log_in(page, live_server)
    page.goto(f"{live_server.url}{CHANGELIST}?initiator=alex.wilbr&category=GroupManagement")
    empty = page.locator("#empty-view")
    assert "No events match these filters" in empty.inner_text()
    assert "Initiated by: alex.wilbr" in empty.inner_text()
    assert "Category: GroupManagement" in empty.inner_text()
    screenshot("empty-view-nearest-names")
    empty.locator("text=Initiated by: alex.wilber@contoso.com").click()
    page.wait_for_url("**initiator=alex.wilber%40contoso.com**")
    assert "category=GroupManagement" in page.url
    assert target_cells(page) == ["Finance", "Sales EMEA"]
