"""The audit-log changelist: columns, filters through the shared FilterSet, no writes."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from logs.admin import pagination
from logs.models import Annotation, AuditEvent, ColumnPreference
from tests.factories import AuditEventFactory, TargetFactory
from tests.support import CHANGELIST, activities, listed

pytestmark = pytest.mark.django_db

DEFAULT_HEADERS = [
    "Date (UTC)",
    "Service",
    "Category",
    "Activity",
    "Status",
    "Status reason",
    "Target(s)",
    "Initiated by (actor)",
]


def headers(response) -> list[str]:
    html = response.content.decode()
    return [
        header
        for header in [*DEFAULT_HEADERS, "Correlation ID", "IP address"]
        if f">{header}<" in html
    ]


def test_default_columns_newest_first(reader_client, imported):
    response = reader_client.get(CHANGELIST)
    assert headers(response) == DEFAULT_HEADERS
    dates = [event.activity_datetime for event in listed(response)]
    assert dates == sorted(dates, reverse=True)
    assert len(dates) == 8
    html = response.content.decode()
    assert "Ventes Région Île-de-France" in html and "zoe.angstrom@contoso.example" in html


def test_a_failure_shows_its_reason_without_choosing_columns(reader_client):
    AuditEventFactory(result="failure", result_reason="Insufficient privileges to complete")
    html = reader_client.get(CHANGELIST).content.decode()
    assert re.search(r'class="field-column_result_reason"[^>]*>[^<]*(<[^>]+>)*Insufficient', html)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "category=GroupManagement",
            ["Add owner to group", "Update group", "GroupLifecyclePolicies_Get"],
        ),
        ("service=Self-service+Password+Management", ["Reset password (self-service)"]),
        ("activity=Update+application", ["Update application"]),
        ("result=failure", ["Reset password (self-service)"]),
        ("operation_type=Assign", ["Add owner to group"]),
        (
            "initiator=zoe.angstrom@contoso.example",
            ["Add owner to group", "Update application", "Update user"],
        ),
        ("initiator=Microsoft+Substrate+Management", ["Update group"]),
        ("target=f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9", ["Add owner to group", "Update group"]),
        ("target_type=Application", ["Update application"]),
        ("correlation_id=da159bfb-54fa-4092-8a38-6e1fa7870e30", ["Add member to group"]),
        (
            "since=2026-11-02T12:00:00Z&until=2026-11-02T16:00:00Z",
            ["Add owner to group", "Update application"],
        ),
        (
            "category=UserManagement&result=success&initiator=zoe.angstrom@contoso.example",
            ["Update user"],
        ),
        # A part of a name, in any case: the target "Payroll Sync".
        ("q=payroll", ["Update application"]),
        ("q=no+such+name", []),
        ("initiator=ANGSTR", ["Add owner to group", "Update application", "Update user"]),
        ("target=ventes+r%C3%A9gion", ["Add owner to group", "Update group"]),
        ("q=Update+app", ["Update application"]),
        ("q=5f0b7a3e-2c4d-4b8e-9a61-0d7e3c2b1a90", ["Update user"]),
    ],
)
def test_each_filter_selects_exactly_its_events(reader_client, imported, query, expected):
    response = reader_client.get(f"{CHANGELIST}?{query}")
    assert activities(response) == expected


def test_period_presets(reader_client):
    now = timezone.now()
    for hours, name in [(1, "Update user"), (48, "Add user"), (24 * 20, "Delete user")]:
        AuditEventFactory(activity_datetime=now - timedelta(hours=hours), activity__name=name)
    assert activities(reader_client.get(f"{CHANGELIST}?period=24h")) == ["Update user"]
    assert activities(reader_client.get(f"{CHANGELIST}?period=7d")) == ["Update user", "Add user"]
    assert len(listed(reader_client.get(f"{CHANGELIST}?period=30d"))) == 3


def test_informational_filter(reader_client):
    noted, plain = AuditEventFactory(), AuditEventFactory()
    Annotation.objects.create(event=noted, kind="informational", text="write-back", source="test")
    assert listed(reader_client.get(f"{CHANGELIST}?informational=true")) == [noted]
    assert listed(reader_client.get(f"{CHANGELIST}?informational=false")) == [plain]


def test_filters_survive_paging_and_sorting(reader_client):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for minute in range(60):
        AuditEventFactory(activity_datetime=start + timedelta(minutes=minute), result="failure")
    AuditEventFactory(activity_datetime=start + timedelta(hours=2))  # a success, filtered out
    page2 = reader_client.get(f"{CHANGELIST}?result=failure&o=0&p=2")
    rows = listed(page2)
    assert len(rows) == 10  # 60 failures, 50 a page
    assert all(event.result == "failure" for event in rows)
    # o=0 sorts by the date column ascending; page 2 holds the 10 latest.
    assert [e.activity_datetime.minute for e in rows] == list(range(50, 60))
    html = page2.content.decode()
    assert "result=failure" in html  # links keep the filter


def test_filter_choices_come_from_lookup_tables(reader_client, imported):
    with CaptureQueriesContext(connection) as queries:
        reader_client.get(CHANGELIST)
    event_scans = [
        q["sql"] for q in queries if 'FROM "logs_auditevent"' in q["sql"] and "DISTINCT" in q["sql"]
    ]
    assert event_scans == []
    html = reader_client.get(CHANGELIST).content.decode()
    assert "Self-service Group Management" in html  # a service from the lookup table


def test_queries_do_not_grow_with_the_page(reader_client):
    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            listed(reader_client.get(CHANGELIST))
        return len(queries)

    for _ in range(5):
        TargetFactory(event=AuditEventFactory())
    few = count_queries()
    for _ in range(40):
        TargetFactory(event=AuditEventFactory())
    assert count_queries() == few


def test_no_add_change_or_delete_even_for_a_superuser(admin_client, imported):
    event = AuditEvent.objects.first()
    html = admin_client.get(CHANGELIST).content.decode()
    assert "addlink" not in html and "delete_selected" not in html
    # The only bulk actions are exports (tests/admin/test_export.py).
    assert set(re.findall(r'<option value="(\w+)"', html)) >= {"export_selected_csv"}
    assert not {"delete_selected"} & set(re.findall(r'<option value="(\w+)"', html))
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    assert admin_client.post(f"{CHANGELIST}{event.pk}/delete/").status_code == 403
    assert (
        admin_client.post(f"{CHANGELIST}{event.pk}/change/", {"result": "failure"}).status_code
        == 200
    )
    event.refresh_from_db()
    assert AuditEvent.objects.filter(pk=event.pk, result=event.result).exists()


def test_column_choice_is_saved_per_user_and_used(reader_client, reader, imported):
    response = reader_client.post(
        f"{CHANGELIST}columns/",
        {
            "columns": ["date", "activity", "correlation_id", "initiator_ip"],
            "next": f"{CHANGELIST}?result=success",
        },
    )
    assert response.status_code == 302 and response["Location"] == f"{CHANGELIST}?result=success"
    assert ColumnPreference.objects.get(user=reader).columns == [
        "date",
        "activity",
        "correlation_id",
        "initiator_ip",
    ]
    assert headers(reader_client.get(CHANGELIST)) == [
        "Date (UTC)",
        "Activity",
        "Correlation ID",
        "IP address",
    ]


def test_column_reset_and_foreign_redirects(reader_client, reader):
    ColumnPreference.objects.create(user=reader, columns=["date"])
    response = reader_client.post(
        f"{CHANGELIST}columns/", {"reset": "1", "next": "https://evil.example/"}
    )
    assert response["Location"] == CHANGELIST
    assert ColumnPreference.objects.get(user=reader).columns[:2] == ["date", "service"]


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(CHANGELIST)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.postgres_only
def test_large_results_show_an_estimate_not_a_full_count(reader_client, monkeypatch):
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 5)
    for _ in range(12):
        AuditEventFactory()
    connection.cursor().execute("ANALYZE logs_auditevent")
    with CaptureQueriesContext(connection) as queries:
        response = reader_client.get(CHANGELIST)
    assert response.context_data["cl"].paginator.is_estimate
    assert "estimated" in response.content.decode()
    full_counts = [
        q["sql"]
        for q in queries
        if q["sql"].startswith('SELECT COUNT(*) AS "__count" FROM "logs_auditevent"')
    ]
    assert full_counts == []


def test_large_results_are_never_counted_in_full(reader_client, monkeypatch):
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 5)
    for _ in range(12):
        AuditEventFactory()
    with CaptureQueriesContext(connection) as queries:
        response = reader_client.get(f"{CHANGELIST}?result=success")
    paginator = response.context_data["cl"].paginator
    counts = [q["sql"] for q in queries if "COUNT(*)" in q["sql"]]
    assert counts and all("LIMIT 6" in sql for sql in counts)  # stops after 5 + 1 rows
    if connection.vendor == "sqlite":
        assert paginator.is_lower_bound
        assert "more than 5 matching events" in response.content.decode()
    else:
        assert paginator.is_estimate


def test_precise_filters_apply_in_the_portal_and_can_be_removed(reader_client, imported):
    query = "target_name_startswith=ventes&target_name=Payroll+Connector"
    assert activities(reader_client.get(f"{CHANGELIST}?{query}")) == []
    response = reader_client.get(
        f"{CHANGELIST}?target_name_startswith=ventes&category=GroupManagement"
    )
    assert activities(response) == ["Add owner to group", "Update group"]
    html = response.content.decode()
    assert "Target name starts with: ventes" in html
    # Removing it keeps the other filters (and only it: no parameter that merely starts alike).
    assert 'href="?category=GroupManagement"' in html

    response = reader_client.get(f"{CHANGELIST}?target_name=ventes+r%C3%A9gion+%C3%8Ele-de-France")
    assert activities(response) == ["Add owner to group", "Update group"]
    assert 'href="?"' in response.content.decode()


def test_the_lists_are_titled_by_what_they_hold(admin_client):
    for url, title in [
        (CHANGELIST, "Audit events"),
        ("/admin/logs/importbatch/", "Import batches"),
        ("/admin/logs/accessrecord/", "Access records"),
    ]:
        page = admin_client.get(url).content.decode()
        assert f"<h1>{title}</h1>" in page and f"<title>{title} |" in page
        assert "to view" not in page


def test_no_view_site_link_and_the_bare_address_leads_to_the_portal(admin_client, client):
    assert "View site" not in admin_client.get("/admin/").content.decode()
    assert "View site" not in admin_client.get(CHANGELIST).content.decode()
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_links_that_remove_a_filter_keep_every_other_one(reader_client, imported):
    """Django's get_query_string(remove=[name]) removed every parameter starting with the name:
    clearing the target took target_type with it, leaving the page took the date preset."""
    query = {"target": "Ventes", "target_type": "Group", "period": "30d", "p": "1"}
    changelist = reader_client.get(CHANGELIST, query).context_data["cl"]
    assert changelist.get_query_string(remove=["target"]) == "?period=30d&target_type=Group"
    assert changelist.get_query_string(remove=["p"]) == (
        "?period=30d&target=Ventes&target_type=Group"
    )
    html = reader_client.get(CHANGELIST, query).content.decode()
    assert 'href="?period=30d&amp;target_type=Group" class="portal-filter-clear"' in html
