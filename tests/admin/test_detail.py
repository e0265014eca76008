"""The event detail page: readable sections, decoded values, the original, related links."""

import html

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from logs.ingest.importer import import_file
from logs.models import Annotation, AuditEvent
from tests.factories import (
    AuditEventFactory,
    GraphDirectoryAuditFactory,
    ModifiedPropertyFactory,
    TargetFactory,
)
from tests.ingest.test_bad_input import graph_page, write_json
from tests.support import CHANGELIST, FIXTURES_DIR, activities

pytestmark = pytest.mark.django_db


def detail(client, activity_name):
    event = AuditEvent.objects.get(activity__name=activity_name)
    response = client.get(f"{CHANGELIST}{event.pk}/change/")
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def related_link(page: str, label_start: str) -> str:
    marker = page.index(label_start)
    href_start = page.rindex('href="', 0, marker) + len('href="')
    return page[href_start : page.index('"', href_start)]


def test_sections_and_fields(reader_client, imported):
    page = detail(reader_client, "Update user")
    for heading in [
        "Activity",
        "Initiated by (actor)",
        "Target(s)",
        "Modified properties (25)",
        "Additional details",
        "Annotations",
        "Related events",
        "Original record",
    ]:
        assert heading in page
    # The portal's one form of a time; the <time> element keeps the stored microseconds.
    assert 'datetime="2026-11-02T08:14:03.123456Z">2026-11-02 08:14:03 UTC</time>' in page
    assert "Zoë Ångström" in page and "203.0.113.24" in page
    assert "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edge/130.0" in page
    assert "UserType" in page and "Member" in page


def test_modified_values_are_decoded_and_the_stored_text_kept(reader_client, imported):
    page = detail(reader_client, "Update application")
    assert '<pre class="value">Payroll Sync</pre>' in page
    assert '<pre class="value">Payroll Connector</pre>' in page
    assert '<summary>as stored</summary><pre>["Payroll Sync"]</pre>' in page


def test_json_inside_a_string_is_shown_as_json(reader_client, imported):
    page = detail(reader_client, "Update policy")
    assert '"AccessTokenLifetime": "02:00:00"' in page
    assert "The source named no initiator." in page


def test_original_record_is_shown_formatted(reader_client, imported):
    page = detail(reader_client, "Update user")
    assert '"activityDateTime": "2026-11-02T08:14:03.1234567Z"' in page


def test_related_links_lead_to_the_right_events(reader_client, imported):
    page = detail(reader_client, "Update group")
    same_request = related_link(page, "Events with the same correlation id")
    assert activities(reader_client.get(same_request)) == ["Update group"]
    by_initiator = related_link(page, "Other events by Microsoft Substrate Management")
    assert activities(reader_client.get(by_initiator)) == ["Update group"]
    on_target = related_link(page, "Other events on Ventes Région Île-de-France")
    assert activities(reader_client.get(on_target)) == ["Add owner to group", "Update group"]


def test_unknown_event_is_404(reader_client):
    assert reader_client.get(f"{CHANGELIST}999999/change/").status_code == 404
    assert reader_client.get(f"{CHANGELIST}abc/change/").status_code == 404


def test_needs_the_view_permission(client, django_user_model):
    staff = django_user_model.objects.create_user("staff", password="x-pw-123456", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_importbatch"))
    client.force_login(staff)
    event = AuditEventFactory()
    assert client.get(f"{CHANGELIST}{event.pk}/change/").status_code == 403
    assert client.get(CHANGELIST).status_code == 403


def test_markup_in_source_values_is_escaped(reader_client):
    target = TargetFactory(display_name="<script>alert(1)</script>")
    ModifiedPropertyFactory(target=target, new_value='["<img src=x onerror=alert(2)>"]')
    response = reader_client.get(f"{CHANGELIST}{target.event.pk}/change/")
    body = response.content.decode()
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)" in body
    assert "<img src=x" not in body


def test_queries_do_not_grow_with_targets_and_properties(reader_client):
    def count(event):
        with CaptureQueriesContext(connection) as queries:
            assert reader_client.get(f"{CHANGELIST}{event.pk}/change/").status_code == 200
        return len(queries)

    small, large = AuditEventFactory(), AuditEventFactory()
    ModifiedPropertyFactory(target=TargetFactory(event=small))
    for _ in range(6):
        target = TargetFactory(event=large)
        for _ in range(5):
            ModifiedPropertyFactory(target=target)
    assert count(large) == count(small)


def test_an_annotation_says_its_kind_once(reader_client, imported):
    page = detail(reader_client, "Update group")
    assert "<strong>Informational:</strong> a Microsoft Substrate Management write-back." in page
    assert page.count("Informational:") == 1


def test_imported_from_links_to_its_import_batch(reader_client, reader, imported):
    reader.user_permissions.add(Permission.objects.get(codename="view_importbatch"))
    event = AuditEvent.objects.select_related("import_batch").get(activity__name="Update user")
    page = detail(reader_client, "Update user")
    batch_url = f"/admin/logs/importbatch/{event.import_batch.pk}/change/"
    assert f'<a href="{batch_url}">{event.import_batch.file_name}</a>' in page
    batch_page = reader_client.get(batch_url)
    assert batch_page.status_code == 200
    assert event.import_batch.sha256 in batch_page.content.decode()


def test_imported_from_is_plain_text_for_whoever_may_not_open_the_batch(reader_client, imported):
    page = detail(reader_client, "Update user")
    assert "/admin/logs/importbatch/" not in page
    assert "AuditLogs_2026-11-02.json" in page


def test_normalisation_notes_are_shown_with_field_and_raw_value(reader_client, tmp_path):
    record = GraphDirectoryAuditFactory(result="Partly <ok>", activityDisplayName="Update user")
    assert import_file(write_json(tmp_path / "p.json", graph_page(record))).with_notes == 1
    page = detail(reader_client, "Update user")
    section = page[page.index('id="normalisation-notes"') : page.index("<h2>Annotations</h2>")]
    assert "<code>result</code>" in section
    assert "is not a known result" in section and "stored as unknown" in section
    assert "<code>Partly <ok></code>" in section  # escaped in the page, unescaped here


def test_a_duplicate_links_to_the_event_it_duplicates(reader_client):
    import_file(FIXTURES_DIR / "portal-json" / "AuditLogs_2026-11-02.json")
    import_file(FIXTURES_DIR / "portal-csv" / "AuditLogs_2026-11-02.csv")
    link = Annotation.objects.filter(kind=Annotation.Kind.DUPLICATE).first()
    response = reader_client.get(f"{CHANGELIST}{link.event_id}/change/")
    page = html.unescape(response.content.decode())
    assert "Duplicate:" in page
    assert f'href="{CHANGELIST}{link.duplicate_of_id}/change/"' in page
