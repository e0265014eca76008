"""Going back keeps the filters: from a detail page to the filtered, sorted list, and through
that list with Previous and Next."""

import pytest
from django.utils import timezone

from logs.demo_data import generate_records
from logs.ingest.generated import store_generated_records
from logs.models import AuditEvent
from tests.browser.support import log_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def events():
    records = generate_records(300, seed=11, window_end=timezone.now())
    assert store_generated_records(records, label="navigation").new == 300


def listed_ids(page) -> list[int]:
    links = page.locator("#result_list tbody th a").all()
    return [int(link.get_attribute("href").split("/")[-3]) for link in links]


def test_back_and_through_the_filtered_list(page, live_server, auditor, events, screenshot):
    log_in(page, live_server)
    page.click("#changelist-filter >> text=GroupManagement")
    page.wait_for_url("**category=GroupManagement**")
    page.fill("#searchbar", "group")
    page.press("#searchbar", "Enter")
    page.wait_for_url("**q=group**")
    page.click("#result_list thead th.column-column_date div.text a")  # oldest first
    page.wait_for_url("**o=**")
    list_url = page.url
    expected = list(
        AuditEvent.objects.filter(category__name="GroupManagement").values_list("pk", flat=True)
    )
    shown = listed_ids(page)
    assert shown and set(shown) <= set(expected)
    dates = [
        text.split(" UTC")[0]
        for text in page.locator("#result_list tbody .field-column_date").all_inner_texts()
    ]
    assert dates == sorted(dates)  # oldest first: the sort is kept as well as the filters

    page.locator("#result_list tbody th a").nth(1).click()
    page.wait_for_url("**/change/**")
    assert int(page.url.split("/")[-3]) == shown[1]
    screenshot("detail-in-a-filtered-list")

    page.click("#next-event")
    page.wait_for_url(f"**/{shown[2]}/change/**")
    page.click("#previous-event")
    page.wait_for_url(f"**/{shown[1]}/change/**")
    page.click("#previous-event")
    page.wait_for_url(f"**/{shown[0]}/change/**")
    assert page.locator("#previous-event").count() == 0  # the first of the list

    page.click("#breadcrumb-list")
    page.wait_for_load_state()
    assert page.url == list_url
    assert listed_ids(page) == shown

    page.locator("#result_list tbody th a").nth(3).click()
    page.wait_for_url("**/change/**")
    page.click("#back-to-list")
    page.wait_for_load_state()
    assert page.url == list_url
    page.locator("#result_list tbody th a").first.click()
    page.wait_for_url("**/change/**")
    page.go_back()
    assert page.url == list_url and listed_ids(page) == shown
