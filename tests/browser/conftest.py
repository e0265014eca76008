"""Headless Chromium against a live server, through the Python playwright package.

Debian's chromium is used (playwright's own browser download is not needed); `.ci/run`
installs it. Without it these tests are skipped with a message saying so, unless
AUDITPORTAL_REQUIRE_BROWSER is set (CI sets it), when a missing browser is a failure.
"""

import os
import shutil
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission

from tests.browser.support import PASSWORD

CHROMIUM = os.environ.get("AUDITPORTAL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(
    os.environ.get(
        "AUDITPORTAL_SCREENSHOTS", Path(__file__).resolve().parents[2] / "var" / "screenshots"
    )
)

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# between browser steps are ordinary synchronous ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _unavailable(reason: str):
    if os.environ.get("AUDITPORTAL_REQUIRE_BROWSER"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _unavailable(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright import sync_api
    except ImportError:
        _unavailable("browser tests need the playwright package (pip install -e '.[dev]')")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def screenshot(page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def make_auditor(django_user_model):
    """A staff user "auditor" holding the named logs permissions (view_auditevent, ...)."""

    def make(*codenames: str):
        user = django_user_model.objects.create_user("auditor", password=PASSWORD, is_staff=True)
        user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
        return user

    return make


@pytest.fixture
def auditor(make_auditor):
    return make_auditor("view_auditevent")
