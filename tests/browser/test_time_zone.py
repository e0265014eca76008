"""Times as an auditor reads them: one form everywhere, his own time zone beside UTC, and a date
range typed in it that the URL keeps in UTC."""

import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from logs.ingest.importer import import_file
from logs.models import ColumnPreference
from tests.browser.support import log_in
from tests.factories import AuditEventFactory
from tests.support import FIXTURES_DIR

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def events():
    import_file(FIXTURES_DIR / "portal-json" / "AuditLogs_2026-11-02.json")
    # Summer time in Paris (UTC+2): 06:00, 08:00 and 10:00 UTC are 08:00, 10:00, 12:00 there.
    return [
        AuditEventFactory(activity_datetime=datetime(2026, 7, 5, hour, 0, tzinfo=UTC))
        for hour in (6, 8, 10)
    ]


def test_choose_a_time_zone_and_filter_in_it(page, live_server, auditor, events, screenshot):
    log_in(page, live_server)
    # Dates the way every page shows them; inputs that ask for that form, in a stated zone.
    first_date = page.locator("#result_list tbody .field-column_date").first.inner_text()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", first_date.strip())
    assert page.locator('input[type="datetime-local"]').count() == 0
    assert page.get_attribute('input[name="since"]', "placeholder") == "YYYY-MM-DD HH:MM:SS"
    assert page.locator("text=From (UTC)").count() == 1

    page.click("#time-zone-button")
    page.select_option("#display-time-zone", "Europe/Paris")
    page.click(".time-zone-chooser >> text=Apply")
    page.wait_for_load_state()
    assert ColumnPreference.objects.get(user=auditor).time_zone == "Europe/Paris"
    assert page.inner_text("#time-zone-button") == "Time: UTC + Europe/Paris"
    assert page.locator("text=From (Europe/Paris)").count() == 1

    page.fill('input[name="local_since"]', "2026-07-05 09:00")
    page.fill('input[name="local_until"]', "2026-07-05 11:00:00")
    page.click(".portal-date-range >> text=Apply range")
    page.wait_for_url("**since=**")
    query = parse_qs(urlsplit(page.url).query)
    assert query["since"] == ["2026-07-05T07:00:00Z"] and query["until"] == ["2026-07-05T09:00:00Z"]
    cells = page.locator("#result_list tbody .field-column_date").all_inner_texts()
    assert [" ".join(cell.split()) for cell in cells] == [
        "2026-07-05 08:00:00 UTC (2026-07-05 10:00:00 Europe/Paris)"
    ]
    # The range reads back in the zone it was typed in, its UTC beside it.
    assert page.input_value('input[name="local_since"]') == "2026-07-05 09:00:00"
    assert page.locator("text== 2026-07-05 07:00:00 UTC").count() == 1
    screenshot("changelist-local-time")

    page.locator("#result_list tbody th a").first.click()
    page.wait_for_url("**/change/**")
    date = page.locator(".audit-fields dd").first.inner_text()
    assert " ".join(date.split()) == "2026-07-05 08:00:00 UTC (2026-07-05 10:00:00 Europe/Paris)"
    screenshot("detail-local-time")


def test_a_time_the_clocks_repeat_is_refused(page, live_server, auditor, events):
    ColumnPreference.objects.create(user=auditor, time_zone="Europe/Paris")
    log_in(page, live_server)
    page.fill('input[name="local_since"]', "2026-10-25 02:30")
    page.click(".portal-date-range >> text=Apply range")
    page.wait_for_load_state()
    assert "since" not in page.url
    assert "happens twice in Europe/Paris" in page.inner_text(".messagelist")
