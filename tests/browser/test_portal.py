"""A person's path through the portal: log in, filter, choose columns, read an event."""

from datetime import timedelta

import pytest
from django.utils import timezone

from logs.ingest.importer import import_file
from tests.browser.support import log_in
from tests.factories import AuditEventFactory, CategoryFactory, TargetFactory
from tests.support import FIXTURES_DIR

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def events():
    import_file(FIXTURES_DIR / "portal-json" / "AuditLogs_2026-11-02.json")
    now = timezone.now()
    users, groups = CategoryFactory(name="UserManagement"), CategoryFactory(name="GroupManagement")
    for hours, category, name in [
        (2, users, "Recent User"),
        (50, groups, "Recent Group"),
        (24 * 12, users, "Older User"),
    ]:
        event = AuditEventFactory(activity_datetime=now - timedelta(hours=hours), category=category)
        TargetFactory(event=event, display_name=name)


def column_headers(page) -> list[str]:
    return [text.strip() for text in page.locator("#result_list thead th").all_inner_texts()]


def target_cells(page) -> list[str]:
    return page.locator("#result_list td.field-column_targets").all_inner_texts()


def test_filter_choose_columns_and_read_an_event(page, live_server, auditor, events, screenshot):
    log_in(page, live_server)
    assert column_headers(page)[:4] == ["DATE (UTC)", "SERVICE", "CATEGORY", "ACTIVITY"]

    page.click("#changelist-filter >> text=Last 7 days")
    page.wait_for_url("**period=7d**")
    assert sorted(target_cells(page)) == ["Recent Group", "Recent User"]
    page.click("#changelist-filter >> text=UserManagement")
    page.wait_for_url("**category=UserManagement**")
    assert "period=7d" in page.url
    assert target_cells(page) == ["Recent User"]
    screenshot("changelist-filtered")

    page.click("text=Columns")
    page.uncheck("input[name=columns][value=service]")
    page.check("input[name=columns][value=correlation_id]")
    page.click(".column-chooser-form >> text=Apply")
    page.wait_for_url("**category=UserManagement**")
    headers = column_headers(page)
    assert "SERVICE" not in headers and "CORRELATION ID" in headers

    page.click("#logout-form button")
    page.wait_for_url("**/logout/**")
    log_in(page, live_server)
    headers = column_headers(page)
    assert "SERVICE" not in headers and "CORRELATION ID" in headers
    screenshot("changelist")

    page.goto(f"{live_server.url}/admin/logs/auditevent/?q=Update+application")
    page.click("#result_list tbody tr:first-child th a")
    page.wait_for_url("**/change/**")
    assert page.locator("h1").inner_text().startswith("Update application")
    assert (
        page.locator("table.modified-properties td pre.value").first.inner_text() == "Payroll Sync"
    )
    page.click("text=Show the record exactly as the source sent it")
    assert "2026-11-02T13:45:12.9876543Z" in page.locator("pre.original-record").inner_text()
    screenshot("detail")
