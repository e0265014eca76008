"""The AccessRecord admin: read-only for everyone, visible to Compliance Administrators only."""

import pytest
from django.contrib.auth.models import Group

from logs.access_trail import record_access
from logs.models import AccessRecord
from logs.roles import AUDIT_EXPORTER, COMPLIANCE_ADMINISTRATOR

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/logs/accessrecord/"


def staff_with_role(django_user_model, username, role):
    user = django_user_model.objects.create_user(username, password="unused-pw", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def officer(django_user_model):
    return staff_with_role(django_user_model, "officer", COMPLIANCE_ADMINISTRATOR)


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


@pytest.fixture
def export_record(django_user_model):
    alice = django_user_model.objects.create_user("alice")
    return record_access(
        AccessRecord.Action.EXPORT,
        user=alice,
        detail={"format": "csv", "filters": {"search": "<script>alert(1)</script>"}},
        row_count=42,
    )


def test_the_list_shows_when_who_what_how_many_and_from_where(officer_client, export_record):
    response = officer_client.get(CHANGELIST, {"action": "export"})
    assert response.status_code == 200
    assert list(response.context_data["cl"].result_list) == [export_record]
    html = response.content.decode()
    for header in ("Created at", "Username", "Action", "Row count", "Remote address"):
        assert header in html
    assert ">alice<" in html and ">42<" in html


def test_filters_by_action_user_and_date_and_searches_by_username(officer_client, export_record):
    cl = officer_client.get(CHANGELIST).context_data["cl"]
    filter_titles = {spec.title for spec in cl.filter_specs}
    assert {"action", "created at", "user"} <= filter_titles
    assert list(
        officer_client.get(CHANGELIST, {"user__id__exact": export_record.user_id})
        .context_data["cl"]
        .result_list
    ) == [export_record]
    searched = officer_client.get(CHANGELIST, {"q": "alic"}).context_data["cl"].result_list
    assert list(searched) == [export_record]
    sign_ins = officer_client.get(CHANGELIST, {"action": "sign_in"}).context_data["cl"]
    assert export_record not in sign_ins.result_list


def test_the_detail_pretty_prints_the_json_escaped(officer_client, export_record):
    html = officer_client.get(f"{CHANGELIST}{export_record.pk}/change/").content.decode()
    assert '<pre class="access-detail">' in html
    assert '  "format": "csv"' in html.replace("&quot;", '"')
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_nobody_can_add_change_or_delete_a_record(client, django_user_model, export_record):
    root = django_user_model.objects.create_superuser("root", password="unused-pw")
    client.force_login(root)
    detail = f"{CHANGELIST}{export_record.pk}/change/"
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    assert client.post(f"{CHANGELIST}{export_record.pk}/delete/", {"post": "yes"}).status_code == (
        403
    )
    client.post(detail, {"username": "mallory", "row_count": "0"})
    export_record.refresh_from_db()
    assert (export_record.username, export_record.row_count) == ("alice", 42)
    html = client.get(detail).content.decode()
    assert 'name="_save"' not in html and "deletelink" not in html
    response = client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [export_record.pk]}
    )
    assert "Are you sure" not in response.content.decode()
    assert AccessRecord.objects.filter(pk=export_record.pk).exists()


def test_an_exporter_cannot_see_the_trail(client, django_user_model, export_record):
    client.force_login(staff_with_role(django_user_model, "exp", AUDIT_EXPORTER))
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(f"{CHANGELIST}{export_record.pk}/change/").status_code == 403
    assert "Access records" not in client.get("/admin/").content.decode()


def test_a_record_page_offers_no_history_button(officer_client, export_record):
    """Nobody may change a record, so Django's "History" would only ever open an empty page."""
    page = officer_client.get(f"{CHANGELIST}{export_record.pk}/change/")
    assert page.status_code == 200
    assert f"{CHANGELIST}{export_record.pk}/history/" not in page.content.decode()
    assert "Username" in page.content.decode()
