"""The changelist's layout as a reader sees it, at 1500 and 1100 px, with every column chosen:
rows of at most two lines, user principal names never broken inside a word, no wide empty
column, sideways scrolling only when the columns cannot fit, a Download menu that looks enabled.
"""

import pytest
from django.utils import timezone

from logs.columns import COLUMNS, DEFAULT_COLUMN_KEYS
from logs.demo_data import generate_records
from logs.ingest.generated import store_generated_records
from logs.ingest.importer import import_file
from logs.models import ColumnPreference
from tests.browser.support import CHANGELIST, log_in
from tests.support import FIXTURES_DIR

pytestmark = pytest.mark.django_db(transaction=True)

# Each measure returns what it found wrong, so that a failure names the rows or cells. They
# look at the table as drawn (rows, cells, text), whatever markup draws it.
TALLER_THAN_TWO_LINES = """() => Array.from(document.querySelectorAll('#result_list tbody tr'))
  .map(row => {
    const cell = row.querySelector('td.field-column_activity') || row.lastElementChild;
    const style = getComputedStyle(cell);
    const padding = parseFloat(style.paddingTop) + parseFloat(style.paddingBottom);
    const inner = cell.clientHeight - padding;
    return [Math.round(inner / parseFloat(style.lineHeight)), row.textContent.slice(0, 120)];
  })
  .filter(([lines]) => lines > 2)"""

# Where a shown line of a cell holding a user principal name ends: only before "@", after ".",
# or at a space or comma between names. Lines cut off from view are not looked at.
UPN_BROKEN_INSIDE_A_WORD = """() => {
  const wrong = [];
  for (const cell of document.querySelectorAll(
      '#result_list td.field-column_initiated_by, #result_list td.field-column_targets')) {
    const text = cell.textContent;
    if (!text.includes('@')) continue;
    let bottom = cell.getBoundingClientRect().bottom;
    for (const box of cell.querySelectorAll('*')) {
      if (getComputedStyle(box).overflow === 'hidden') {
        bottom = Math.min(bottom, box.getBoundingClientRect().bottom);
      }
    }
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    const chars = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (let i = 0; i < node.length; i++) {
        const range = document.createRange();
        range.setStart(node, i); range.setEnd(node, i + 1);
        const rect = range.getBoundingClientRect();
        if (rect.height && rect.top < bottom - 1) chars.push([node.data[i], Math.round(rect.top)]);
      }
    }
    for (let i = 1; i < chars.length; i++) {
      if (chars[i][1] > chars[i - 1][1]) {
        const before = chars[i - 1][0], after = chars[i][0];
        const allowed = after === '@' || before === '.'
          || /[\\s,]/.test(before) || /\\s/.test(after);
        if (!allowed) wrong.push(text.trim().slice(0, 80) + ' breaks between ' + before + after);
      }
    }
  }
  return wrong;
}"""

# A column much wider than anything in it (its header included) is empty space; and none is
# wider than a reader's eye takes in at once.
EMPTY_SPACE = """() => {
  const table = document.querySelector('#result_list');
  const headers = Array.from(table.querySelectorAll('thead th'));
  const widths = headers.map(th => {
    const range = document.createRange();
    range.selectNodeContents(th.querySelector('.text') || th);
    return range.getBoundingClientRect().width;
  });
  for (const row of table.querySelectorAll('tbody tr')) {
    Array.from(row.children).forEach((cell, column) => {
      const range = document.createRange();
      range.selectNodeContents(cell);
      widths[column] = Math.max(widths[column], range.getBoundingClientRect().width);
    });
  }
  return headers
    .map((th, column) => [th.className, Math.round(th.getBoundingClientRect().width),
                          Math.round(th.getBoundingClientRect().width - widths[column])])
    .filter(([, width, slack]) => slack > 60 || width > 300);
}"""

SCROLLING = """() => {
  const results = document.querySelector('#changelist-form .results');
  const table = document.querySelector('#result_list');
  const width = table.style.width;
  table.style.width = 'min-content';
  const narrowest = table.getBoundingClientRect().width;
  table.style.width = width;
  return {scrolls: results.scrollWidth > results.clientWidth + 1,
          table: table.getBoundingClientRect().width, narrowest, room: results.clientWidth};
}"""


@pytest.fixture
def events():
    import_file(FIXTURES_DIR / "portal-json" / "AuditLogs_2026-11-02.json")
    records = list(generate_records(400, seed=3, failure_rate=0.2, window_end=timezone.now()))
    assert store_generated_records(records, label="layout").new == 400


@pytest.fixture
def exporter(make_auditor):
    return make_auditor("view_auditevent", "export_auditevent")


@pytest.mark.parametrize("width", [1500, 1100])
def test_every_column_chosen_stays_readable(page, live_server, exporter, events, screenshot, width):
    ColumnPreference.objects.create(user=exporter, columns=[column.key for column in COLUMNS])
    page.set_viewport_size({"width": width, "height": 1000})
    log_in(page, live_server, f"{CHANGELIST}?result=failure")
    assert page.locator("#result_list thead th").count() == len(COLUMNS) + 1
    screenshot(f"layout-all-columns-failures-{width}")
    log_in_url = f"{live_server.url}{CHANGELIST}"
    for url in (f"{log_in_url}?result=failure", log_in_url):
        page.goto(url)
        assert page.evaluate(TALLER_THAN_TWO_LINES) == []
        assert page.evaluate(UPN_BROKEN_INSIDE_A_WORD) == []
        assert page.evaluate(EMPTY_SPACE) == []
        scrolling = page.evaluate(SCROLLING)
        # Sixteen columns do not fit: the table scrolls, but is no wider than they need.
        assert scrolling["scrolls"] and scrolling["table"] <= scrolling["narrowest"] + 1
    screenshot(f"layout-all-columns-{width}")
    page.evaluate("document.querySelector('#changelist-form .results').scrollLeft = 10000")
    screenshot(f"layout-all-columns-{width}-scrolled")


@pytest.mark.parametrize("width", [1500, 1100])
def test_the_default_columns(page, live_server, exporter, events, screenshot, width):
    page.set_viewport_size({"width": width, "height": 1000})
    log_in(page, live_server, f"{CHANGELIST}?result=failure")
    assert page.locator("#result_list thead th").count() == len(DEFAULT_COLUMN_KEYS) + 1
    assert page.evaluate(TALLER_THAN_TWO_LINES) == []
    assert page.evaluate(UPN_BROKEN_INSIDE_A_WORD) == []
    assert page.evaluate(EMPTY_SPACE) == []
    scrolling = page.evaluate(SCROLLING)
    if width == 1500:
        assert not scrolling["scrolls"], scrolling  # they fit: no sideways scrolling
    else:
        assert not scrolling["scrolls"] or scrolling["narrowest"] > scrolling["room"], scrolling
    screenshot(f"layout-default-columns-{width}")


def test_the_download_menu_looks_enabled(page, live_server, exporter, events, screenshot):
    log_in(page, live_server)
    page.click(".export-download summary")
    # Drawn like the other buttons of the page (Insights), not as Django's grey pills.
    button_colour = page.eval_on_selector(
        "a.portal-tool", "e => getComputedStyle(e).backgroundColor"
    )
    page.mouse.move(0, 0)
    for link in page.locator(".export-download-menu a.button").all():
        style = link.evaluate(
            "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).textTransform]"
        )
        assert style == [button_colour, "none"]
    screenshot("download-menu")
