"""An auditor opens Insights: answers for the last 30 days, charts drawn without any network,
and a number that opens exactly its events in the changelist."""

import pytest
from django.utils import timezone

from logs.demo_data import generate_records
from logs.ingest.generated import store_generated_records
from logs.insights.answers import Period
from logs.insights.builder import compliance_report
from tests.browser.support import log_in

pytestmark = pytest.mark.django_db(transaction=True)

INSIGHTS = "/admin/logs/auditevent/insights/"


@pytest.fixture
def demo_events():
    records = generate_records(1500, seed=7, window_end=timezone.now())
    assert store_generated_records(records, label="demo").new == 1500


def test_insights_answers_charts_and_links(page, live_server, auditor, demo_events, screenshot):
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    log_in(page, live_server, INSIGHTS)

    assert page.locator("svg.chart").count() == 3
    assert page.locator("svg.chart rect").count() > 30
    expected = compliance_report(Period.default()).users["password_changes"].count
    number = page.locator("#answer-password_changes a.insights-number")
    assert int(number.inner_text()) == expected > 0
    # No item of a two-column list is split between its columns, whatever the width.
    for width in range(1100, 1501, 50):
        page.set_viewport_size({"width": width, "height": 1000})
        fragments = page.locator(".insights-breakdown li").evaluate_all(
            "items => items.map(item => item.getClientRects().length)"
        )
        assert fragments and set(fragments) == {1}, f"an item split at {width} px"
    page.set_viewport_size({"width": 1500, "height": 1000})
    screenshot("insights")
    assert all(url.startswith(live_server.url) for url in requests), "no external requests"

    number.click()
    page.wait_for_url("**/admin/logs/auditevent/?**activity=**")
    shown = page.locator("#result_list tbody tr").count()
    assert shown == min(expected, 50)
    activities = set(page.locator("#result_list td.field-column_activity").all_inner_texts())
    assert activities and all("assword" in name for name in activities)

    page.goto(f"{live_server.url}{INSIGHTS}?exclude_informational=true")
    assert page.locator("input[name=exclude_informational]").is_checked()
    screenshot("insights-excluding-informational")
