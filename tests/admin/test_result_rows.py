"""The changelist's rows rendered in one pass are Django's result list, byte for byte.

``logs.admin.result_rows`` replaces Django's per-cell rendering of the changelist; these tests
render the same pages both ways (the fallback to Django's ``result_list`` forced) and compare
the whole page: every column, a time zone, filters preserved in the links, names that need
escaping, a user who may not export (no checkboxes).
"""

import re

import pytest
from django.contrib.admin.templatetags import admin_list
from django.utils.html import escape

from logs.admin import result_rows
from logs.columns import COLUMNS, target_label
from logs.models import ColumnPreference, Target
from tests.factories import AuditEventFactory, TargetFactory
from tests.support import CHANGELIST

pytestmark = pytest.mark.django_db

# The CSRF token is masked afresh on every render.
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def both_ways(client, url, monkeypatch) -> tuple[str, str]:
    fast = client.get(url)
    with monkeypatch.context() as patched:
        patched.setattr(result_rows, "can_render", lambda changelist: False)
        django = client.get(url)
    assert fast.status_code == django.status_code == 200
    return CSRF.sub("", fast.content.decode()), CSRF.sub("", django.content.decode())


@pytest.fixture
def awkward_events():
    """Names with markup and quotes, several targets, a failure with a reason."""
    event = AuditEventFactory(
        result="failure",
        result_reason='Refused: <script>alert("x")</script> & more',
        correlation_id="0f1e2d3c-aaaa-bbbb-cccc-000000000001",
    )
    TargetFactory(event=event, display_name="R&D <team> \"alpha\" 'beta'", type="Group")
    TargetFactory(event=event, display_name="", user_principal_name="o'brien@contoso.example")
    AuditEventFactory.create_batch(4)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?category=UserManagement",
        "?o=3",
        "?q=contoso&ordering=initiator",
        "?result=failure&_changelist_filters=x",
    ],
)
def test_every_column_renders_as_django_renders_it(
    admin_client, admin_user, awkward_events, monkeypatch, query
):
    ColumnPreference.objects.create(user=admin_user, columns=[c.key for c in COLUMNS])
    fast, django = both_ways(admin_client, CHANGELIST + query, monkeypatch)
    assert 'id="result_list"' in fast or "0 audit events" in fast or query
    assert fast == django


def test_the_default_columns_with_a_time_zone(
    admin_client, admin_user, awkward_events, monkeypatch
):
    ColumnPreference.objects.create(user=admin_user, time_zone="Europe/Paris")
    fast, django = both_ways(admin_client, CHANGELIST, monkeypatch)
    assert "portal-local-time" in fast and 'class="action-select"' in fast
    assert fast == django


def test_a_reader_without_actions_sees_the_same_rows(client, django_user_model, monkeypatch):
    from django.contrib.auth.models import Permission

    reader = django_user_model.objects.create_user("rows-reader", is_staff=True)
    reader.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    client.force_login(reader)
    AuditEventFactory.create_batch(3)
    fast, django = both_ways(client, CHANGELIST, monkeypatch)
    assert 'class="action-select"' not in fast and 'id="result_list"' in fast
    assert fast == django


def test_the_fast_rendering_is_the_one_used(admin_client, monkeypatch):
    AuditEventFactory.create_batch(2)
    calls = []
    monkeypatch.setattr(admin_list, "items_for_result", lambda *a: calls.append(a) or [])
    admin_client.get(CHANGELIST)
    assert calls == []


def test_each_row_shows_every_target_of_its_event_in_source_order(
    admin_client, admin_user, awkward_events
):
    """The changelist loads a page's targets as plain lists (``with_listed_targets``); each
    row's targets and target types are still all of the event's, in their stored order."""
    ColumnPreference.objects.create(user=admin_user, columns=["targets", "target_type"])
    TargetFactory(event=Target.objects.first().event, display_name="Third", type="Device")
    response = admin_client.get(CHANGELIST)
    page = response.content.decode()
    events = response.context_data["cl"].result_list
    assert max(len(event.listed_targets) for event in events) == 3
    for event in events:
        stored = list(Target.objects.filter(event=event).order_by("position"))
        assert [target.pk for target in event.listed_targets] == [t.pk for t in stored]
        labels = ", ".join(filter(None, map(target_label, stored)))
        types = ", ".join(dict.fromkeys(t.type for t in stored if t.type))
        assert f'title="{escape(labels)}"' in page
        assert f'title="{escape(types)}"' in page
