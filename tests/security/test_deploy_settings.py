"""Production settings pass Django's deployment check, and development still works over http."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Left out of the child's environment: the settings under test, and what other tests set in
# this process (the browser tests allow async-unsafe calls, which the deployment check refuses).
SETTINGS_VARIABLES = {
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_REFERRER_POLICY",
    "SECURE_PROXY_SSL_HEADER",
}


def manage(*args: str, **environment: str) -> subprocess.CompletedProcess:
    """manage.py with the real settings and only ``environment`` of the settings' variables."""
    env = {name: value for name, value in os.environ.items() if name not in SETTINGS_VARIABLES}
    env["DJANGO_SETTINGS_MODULE"] = "auditportal.settings"
    env.update(environment)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deployment_check_without_warnings():
    completed = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="portal.example.com",
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "System check identified no issues" in output


def test_production_refuses_to_start_without_a_long_secret_key():
    missing = manage("check", DEBUG="0")
    assert missing.returncode != 0
    assert "SECRET_KEY is not set" in missing.stderr
    short = manage("check", DEBUG="0", SECRET_KEY="s3cr3t-but-short")
    assert short.returncode != 0
    assert "at least 50" in short.stderr


def test_debug_is_off_unless_asked_for_and_development_keeps_plain_http():
    script = (
        "from django.conf import settings as s; "
        "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.SECURE_HSTS_SECONDS)"
    )
    production = manage("shell", "--no-imports", "-c", script, SECRET_KEY=secrets.token_urlsafe(50))
    assert production.stdout.split() == ["False", "True", "True", "31536000"], production.stderr
    development = manage("shell", "--no-imports", "-c", script, DEBUG="1")
    assert development.stdout.split() == ["True", "False", "False", "0"], development.stderr


def test_proxy_header_is_trusted_only_when_asked_for():
    script = "from django.conf import settings as s; print(s.SECURE_PROXY_SSL_HEADER)"
    key = secrets.token_urlsafe(50)
    assert manage("shell", "--no-imports", "-c", script, SECRET_KEY=key).stdout.strip() == "None"
    trusted = manage(
        "shell", "--no-imports", "-c", script, SECRET_KEY=key, SECURE_PROXY_SSL_HEADER="1"
    )
    assert trusted.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')"
