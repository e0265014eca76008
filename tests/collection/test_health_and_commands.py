"""Sources configured by command and in the admin, their health where an auditor sees it (the
admin list, the banner on every page, ``collect_audit_logs --check``), and secrets never shown."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from logs import roles
from logs.models import AccessRecord, CollectionSource

pytestmark = pytest.mark.django_db

SECRET = "v3ry-s3cret-client-secret-value"
SOURCES = "/admin/logs/collectionsource/"


def command(*arguments) -> str:
    output = StringIO()
    call_command(*arguments, stdout=output)
    return output.getvalue()


def member(django_user_model, role: str):
    user = django_user_model.objects.create_user(role.replace(" ", "-"), is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def test_add_list_remove_by_command_never_showing_a_secret(monkeypatch):
    monkeypatch.setenv("CONTOSO_SECRET", SECRET)
    added = command(
        "collection_source", "add", "contoso", "--kind", "entra",
        "--tenant-id", "11111111-2222-4333-8444-555555555555",
        "--client-id", "22222222-3333-4444-8555-666666666666",
        "--client-secret-env", "CONTOSO_SECRET",
    )  # fmt: skip
    assert "secret from $CONTOSO_SECRET" in added
    command("collection_source", "add", "archive", "--kind", "storage",
            "--account-url", "https://contosoaudit.blob.core.windows.net",
            "--credential-env", "ARCHIVE_KEY")  # fmt: skip
    listed = command("collection_source", "list")
    assert "contoso [entra] tenant 11111111-2222-4333-8444-555555555555" in listed
    assert (
        "archive [storage] https://contosoaudit.blob.core.windows.net/insights-logs-auditlogs"
        in listed
    )
    assert "has not run yet" in listed
    source = CollectionSource.objects.get(name="contoso")
    assert SECRET not in str(source.__dict__)
    command("collection_source", "remove", "archive")
    assert list(CollectionSource.objects.values_list("name", flat=True)) == ["contoso"]
    changes = AccessRecord.objects.filter(action=AccessRecord.Action.COLLECTION_SOURCE)
    assert [record.detail["change"] for record in changes.order_by("id")] == [
        "add",
        "add",
        "remove",
    ]
    assert all(SECRET not in str(record.detail) for record in changes)
    assert changes.first().detail["via"] == "manage.py collection_source"


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--kind", "entra", "--tenant-id", "t", "--client-id", "c"],
         "one of --client-secret-env VAR or --certificate PATH"),
        (["--kind", "entra", "--tenant-id", "t", "--client-id", "c", "--client-secret-env", SECRET],
         "the NAME of an environment variable"),
        (["--kind", "graph", "--url", "https://archive.example/graph/v1.0"], "needs --token-env"),
        (["--kind", "graph", "--url", "https://a.example/graph/v1.0?sig=x", "--token-env", "T"],
         "must not carry a query"),
        (["--kind", "storage", "--account-url", "https://a.blob.core.windows.net",
          "--credential-env", "K", "--token-env", "T"], "takes no --token-env"),
    ],
)  # fmt: skip
def test_a_source_lacking_what_its_kind_needs_is_refused(arguments, message):
    with pytest.raises(CommandError, match=message.replace("?", r"\?")):
        command("collection_source", "add", "bad", *arguments)
    assert not CollectionSource.objects.exists()


def test_a_run_by_command_is_in_the_trail_as_the_commands(monkeypatch):
    monkeypatch.delenv("MISSING_TOKEN", raising=False)
    CollectionSource.objects.create(
        name="unset", kind="graph", url="https://a.example/graph/v1.0", token_env="MISSING_TOKEN"
    )
    with pytest.raises(CommandError, match="1 source\\(s\\) failed: unset"):
        call_command("collect_audit_logs", stdout=StringIO(), stderr=StringIO())
    record = AccessRecord.objects.get(action=AccessRecord.Action.COLLECT)
    assert record.user is None and record.detail["via"] == "manage.py collect_audit_logs"
    assert record.detail["status"] == "failed"
    assert "MISSING_TOKEN is not set" in record.detail["error"]


def test_check_exits_non_zero_when_a_source_is_unhealthy(settings):
    now = timezone.now()
    CollectionSource.objects.create(
        name="fresh", kind="graph", url="https://a.example/graph/v1.0", token_env="T",
        last_success_at=now - timedelta(minutes=5), newest_event_at=now - timedelta(minutes=20),
    )  # fmt: skip
    out = command("collect_audit_logs", "--check")
    assert "fresh [graph] OK" in out and "lag 20 min" in out
    CollectionSource.objects.create(
        name="stale", kind="graph", url="https://b.example/graph/v1.0", token_env="T",
        created_at=now - timedelta(days=3), last_success_at=now - timedelta(hours=30),
    )  # fmt: skip
    output = StringIO()
    with pytest.raises(CommandError, match="Unhealthy: stale"):
        call_command("collect_audit_logs", "--check", stdout=output)
    assert "stale [graph] UNHEALTHY" in output.getvalue()
    assert "no success for 30.0 h" in output.getvalue()


def test_a_failed_last_run_is_unhealthy_before_the_day_is_out():
    now = timezone.now()
    CollectionSource.objects.create(
        name="failing", kind="graph", url="https://a.example/graph/v1.0", token_env="T",
        last_success_at=now - timedelta(hours=2), last_error_at=now - timedelta(hours=1),
        last_error="failing, page 1: the source answered HTTP 401 InvalidAuthenticationToken",
    )  # fmt: skip
    with pytest.raises(CommandError, match="Unhealthy: failing"):
        call_command("collect_audit_logs", "--check", stdout=StringIO())


def test_every_page_warns_when_a_source_has_not_succeeded_for_a_day(client, admin_user):
    source = CollectionSource.objects.create(
        name="contoso", kind="graph", url="https://a.example/graph/v1.0", token_env="T",
        created_at=timezone.now() - timedelta(days=2),
        last_success_at=timezone.now() - timedelta(hours=2),
    )  # fmt: skip
    client.force_login(admin_user)
    pages = ["/admin/", "/admin/logs/auditevent/", "/admin/logs/importbatch/", SOURCES]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200
        assert b"collection-banner" not in response.content, page
    source.last_success_at = timezone.now() - timedelta(hours=25)
    source.save()
    for page in pages:
        content = client.get(page).content.decode()
        assert 'id="collection-banner"' in content, page
        assert "Collection source “contoso” has not collected successfully for" in content
        assert "more than 24 hours" in content


def test_the_banner_follows_the_setting(client, admin_user, settings):
    settings.AUDITPORTAL_COLLECTION_STALE_HOURS = 1
    CollectionSource.objects.create(
        name="hourly", kind="graph", url="https://a.example/graph/v1.0", token_env="T",
        last_success_at=timezone.now() - timedelta(hours=2),
    )  # fmt: skip
    client.force_login(admin_user)
    assert b"collection-banner" in client.get("/admin/").content
    CollectionSource.objects.filter(name="hourly").update(enabled=False)
    assert b"collection-banner" not in client.get("/admin/").content


def test_readers_see_health_and_administrators_configure(client, django_user_model, monkeypatch):
    monkeypatch.setenv("ORIGIN_TOKEN", SECRET)
    now = timezone.now()
    CollectionSource.objects.create(
        name="regional", kind="graph", url="https://a.example/graph/v1.0",
        token_env="ORIGIN_TOKEN", last_success_at=now - timedelta(minutes=3),
        newest_event_at=now - timedelta(minutes=40),
        last_error_at=now - timedelta(minutes=1), last_error="regional, page 2: HTTP 503",
    )  # fmt: skip
    client.force_login(member(django_user_model, roles.AUDIT_READER))
    listing = client.get(SOURCES).content.decode()
    assert "regional" in listing and "40 min" in listing
    assert "last run failed: regional, page 2: HTTP 503" in listing
    assert SECRET not in listing

    administrator = member(django_user_model, roles.COMPLIANCE_ADMINISTRATOR)
    client.force_login(administrator)
    response = client.post(
        SOURCES + "add/",
        {"name": "contoso", "kind": "entra", "enabled": "on", "tenant_id": "t1",
         "client_id": "c1", "client_secret_env": "CONTOSO_SECRET",
         "container": "insights-logs-auditlogs"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[-3000:]
    added = CollectionSource.objects.get(name="contoso")
    assert added.client_secret_env == "CONTOSO_SECRET"
    record = AccessRecord.objects.get(action=AccessRecord.Action.COLLECTION_SOURCE)
    assert record.user == administrator and record.detail["change"] == "add"
    refused = client.post(
        SOURCES + "add/",
        {"name": "leaky", "kind": "graph", "enabled": "on", "url": "https://b.example/graph/v1.0",
         "token_env": SECRET, "container": "insights-logs-auditlogs"},
    )  # fmt: skip
    assert refused.status_code == 200
    assert "NAME of an environment variable" in refused.content.decode()
    assert not CollectionSource.objects.filter(name="leaky").exists()
