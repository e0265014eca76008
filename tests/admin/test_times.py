"""One way to show a time on every page, a per-user display time zone, and date ranges typed in
it while URLs and downloads stay in UTC."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from knox.models import AuthToken

from logs.access_trail import record_access
from logs.models import AccessRecord, AuditEvent, ColumnPreference, ImportBatch
from tests.factories import AuditEventFactory
from tests.support import CHANGELIST, listed

pytestmark = pytest.mark.django_db

PORTAL_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")
# Django's own renderings of a date-time: "Nov. 2, 2026, 8:14 a.m.", "noon", "midnight".
DJANGO_TIME = re.compile(
    r"\b(a\.m\.|p\.m\.|noon|midnight)|\b(Jan|Feb|March|April|May|June|July|Aug|Sept|Oct|Nov|Dec)"
    r"[a-z]*\.? \d{1,2}, \d{4}"
)
LOCAL_PARIS = re.compile(r"\(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d Europe/Paris\)")


@pytest.fixture
def every_kind_of_time(admin_user, imported):
    """Something dated on each page: events, an annotation, an import batch, an access record,
    an API token, and an event old enough for retention."""
    AuditEventFactory(activity_datetime=datetime.now(UTC) - timedelta(days=400))
    record_access(AccessRecord.Action.EXPORT, user=admin_user, detail={}, row_count=1)
    AuthToken.objects.create(user=admin_user, expiry=timedelta(days=30))


def pages(admin_user) -> dict[str, str]:
    event = AuditEvent.objects.get(activity__name="Update group")  # annotated on import
    batch = ImportBatch.objects.order_by("pk").first()
    record = AccessRecord.objects.filter(action="export").get()
    token = AuthToken.objects.get()
    return {
        "changelist": CHANGELIST,
        "detail": f"{CHANGELIST}{event.pk}/change/",
        "insights": f"{CHANGELIST}insights/?since=2026-11-02T00:00:00Z&until=2026-11-03T00:00:00Z",
        "retention": f"{CHANGELIST}retention/",
        "access records": "/admin/logs/accessrecord/",
        "access record": f"/admin/logs/accessrecord/{record.pk}/change/",
        "import batches": "/admin/logs/importbatch/",
        "import batch": f"/admin/logs/importbatch/{batch.pk}/change/",
        "tokens": "/admin/knox/authtoken/",
        "token": f"/admin/knox/authtoken/{token.pk}/change/",
    }


def test_every_page_shows_times_one_way(admin_client, admin_user, every_kind_of_time):
    for name, url in pages(admin_user).items():
        response = admin_client.get(url)
        assert response.status_code == 200, name
        page = response.content.decode()
        assert PORTAL_TIME.search(page), f"{name}: no time in the portal's form"
        assert not DJANGO_TIME.search(page), f"{name}: {DJANGO_TIME.search(page).group()}"
        assert not LOCAL_PARIS.search(page), f"{name}: a local time without a zone chosen"


def test_with_a_display_zone_every_page_shows_local_time_beside_utc(
    admin_client, admin_user, every_kind_of_time
):
    ColumnPreference.objects.create(user=admin_user, time_zone="Europe/Paris")
    for name, url in pages(admin_user).items():
        page = admin_client.get(url).content.decode()
        assert LOCAL_PARIS.search(page), f"{name}: no local time"


def test_the_list_and_the_detail_show_the_same_moment_in_both_zones(reader_client, reader):
    event = AuditEventFactory(activity_datetime=datetime(2026, 7, 5, 19, 13, 7, 25, tzinfo=UTC))
    ColumnPreference.objects.create(user=reader, time_zone="America/New_York")
    for url in [CHANGELIST, f"{CHANGELIST}{event.pk}/change/"]:
        page = reader_client.get(url).content.decode()
        assert (
            '<time class="portal-time" datetime="2026-07-05T19:13:07.000025Z">'
            "2026-07-05 19:13:07 UTC</time> "
            '<span class="portal-local-time">(2026-07-05 15:13:07 America/New_York)</span>'
        ) in page


def test_choosing_a_zone_is_remembered_and_leaves_the_columns(reader_client, reader):
    ColumnPreference.objects.create(user=reader, columns=["activity", "status"])
    next_url = f"{CHANGELIST}?category=GroupManagement"
    response = reader_client.post(
        f"{CHANGELIST}time-zone/", {"time_zone": "Asia/Tokyo", "next": next_url}
    )
    assert response.status_code == 302 and response["Location"] == next_url
    preference = ColumnPreference.objects.get(user=reader)
    assert (preference.time_zone, preference.columns) == ("Asia/Tokyo", ["activity", "status"])
    assert "Time: UTC + Asia/Tokyo" in reader_client.get(CHANGELIST).content.decode()

    reader_client.post(f"{CHANGELIST}time-zone/", {"time_zone": ""})
    assert ColumnPreference.objects.get(user=reader).time_zone == ""


@pytest.mark.parametrize("name", ["Etc/GMT+5", "Mars/Olympus_Mons", "x" * 200])
def test_an_unknown_zone_is_refused(reader_client, reader, name):
    response = reader_client.post(f"{CHANGELIST}time-zone/", {"time_zone": name})
    assert response.status_code == 400
    assert not ColumnPreference.objects.filter(user=reader).exists()


def test_date_inputs_cannot_be_misread(reader_client, reader):
    page = reader_client.get(CHANGELIST, {"since": "2026-11-02T08:00:00Z"}).content.decode()
    assert 'type="datetime-local"' not in page  # a locale's mm/dd/yyyy and AM/PM
    assert "From (UTC)" in page and "To (UTC)" in page
    assert 'name="since" value="2026-11-02 08:00:00" placeholder="YYYY-MM-DD HH:MM:SS"' in page

    ColumnPreference.objects.create(user=reader, time_zone="Europe/Paris")
    page = reader_client.get(CHANGELIST, {"since": "2026-11-02T08:00:00Z"}).content.decode()
    assert "From (Europe/Paris)" in page
    assert 'name="local_since" value="2026-11-02 09:00:00"' in page
    assert "= 2026-11-02 08:00:00 UTC" in page


def test_a_range_typed_in_the_display_zone_lands_in_the_url_as_utc(reader_client, reader):
    ColumnPreference.objects.create(user=reader, time_zone="Europe/Paris")
    before, inside, after = (
        AuditEventFactory(activity_datetime=datetime(2026, 7, 5, hour, 0, tzinfo=UTC))
        for hour in (6, 8, 10)
    )
    response = reader_client.get(
        CHANGELIST,
        {
            "local_since": "2026-07-05 09:00",
            "local_until": "2026-07-05 11:00:00",
            "category": inside.category.name,
            "period": "7d",
        },
    )
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(f"{CHANGELIST}?")
    assert "since=2026-07-05T07%3A00%3A00Z" in location
    assert "until=2026-07-05T09%3A00%3A00Z" in location
    assert "local_" not in location and "period" not in location  # a range replaces a preset
    assert listed(reader_client.get(location)) == [inside]
    del before, after


def test_a_local_time_the_clocks_repeat_is_refused_not_guessed(reader_client, reader):
    ColumnPreference.objects.create(user=reader, time_zone="Europe/Paris")
    response = reader_client.get(
        CHANGELIST, {"local_since": "2026-10-25 02:30", "category": "GroupManagement"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{CHANGELIST}?category=GroupManagement"
    (message,) = [str(m) for m in get_messages(response.wsgi_request)]
    assert "happens twice in Europe/Paris" in message


def test_without_a_zone_typed_times_are_utc(reader_client):
    response = reader_client.get(CHANGELIST, {"local_since": "2026-07-05 09:00"})
    assert "since=2026-07-05+09%3A00" in response["Location"]


def test_insights_periods_are_typed_in_the_display_zone_too(reader_client, reader, imported):
    ColumnPreference.objects.create(user=reader, time_zone="Asia/Tokyo")
    insights = f"{CHANGELIST}insights/"
    response = reader_client.get(
        insights, {"local_since": "2026-11-02 09:00", "local_until": "2026-11-03 09:00"}
    )
    assert response.status_code == 302
    page = reader_client.get(response["Location"])
    assert page.context["report"].period.since == datetime(2026, 11, 2, tzinfo=UTC)
    assert page.context["report"].totals["events"] == 6
    assert 'name="local_since" value="2026-11-02 09:00:00"' in page.content.decode()


def test_downloads_stay_in_utc_whatever_the_display_zone(reader_client, reader):
    reader.user_permissions.add(Permission.objects.get(codename="export_auditevent"))
    ColumnPreference.objects.create(
        user=reader, columns=["date", "activity"], time_zone="Pacific/Auckland"
    )
    AuditEventFactory(activity_datetime=datetime(2026, 7, 5, 19, 13, 7, tzinfo=UTC))
    response = reader_client.get(f"{CHANGELIST}export/csv/")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][0] == "2026-07-05 19:13:07"
