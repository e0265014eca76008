"""Browser test helpers: signing in as the ``auditor`` fixture's user through the login form."""

PASSWORD = "browser-test-pw-1234"
CHANGELIST = "/admin/logs/auditevent/"


def log_in(page, live_server, next_url: str = CHANGELIST) -> None:
    """Sign in as "auditor" through the login form and wait for ``next_url``."""
    page.goto(f"{live_server.url}/admin/login/?next={next_url}")
    page.fill("#id_username", "auditor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"**{next_url}**")
