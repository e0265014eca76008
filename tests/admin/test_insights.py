"""The Insights page: the answers with links to exactly their events, charts as inline SVG."""

import re

import pytest

from tests.support import listed

pytestmark = pytest.mark.django_db

INSIGHTS = "/admin/logs/auditevent/insights/"
DAY = {"since": "2026-11-02T00:00:00Z", "until": "2026-11-03T00:00:00Z"}


def test_answers_link_to_their_events(reader_client, imported):
    response = reader_client.get(INSIGHTS, DAY)
    assert response.status_code == 200
    report = response.context["report"]
    assert report.totals["events"] == 6
    html = response.content.decode()
    assert "Payroll Sync" in html and "Payroll Connector" in html
    owners = report.groups["owner_changes"]
    assert owners.changelist_url in html.replace("&amp;", "&")
    shown = listed(reader_client.get(owners.changelist_url))
    assert [event.activity.name for event in shown] == ["Add owner to group"]


def test_charts_are_inline_svg_with_no_external_resource(reader_client, imported):
    html = reader_client.get(INSIGHTS, DAY).content.decode()
    assert html.count('<svg role="img"') == 3
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<script" not in html.split('<svg role="img"', 1)[1].split("</svg>")[0]


@pytest.mark.parametrize(
    ("query", "field"),
    [({"since": "not a date"}, "since"), ({"until": "0001-01-01T00:00:00Z"}, "until")],
)
def test_bad_period_is_explained(reader_client, imported, query, field):
    response = reader_client.get(INSIGHTS, query)
    assert response.status_code == 200
    assert response.context["report"] is None
    assert field in response.context["form"].errors


def test_needs_the_view_permission(client, django_user_model, imported):
    user = django_user_model.objects.create_user("staff", password="pw-staff-123", is_staff=True)
    client.force_login(user)
    response = client.get(INSIGHTS)
    assert response.status_code == 403
    assert "<strong>Audit Reader</strong>, <strong>Audit Exporter</strong> and" in (
        response.content.decode()
    )


def test_the_changelist_links_to_insights(reader_client):
    html = reader_client.get("/admin/logs/auditevent/").content.decode()
    assert 'href="/admin/logs/auditevent/insights/"' in html
