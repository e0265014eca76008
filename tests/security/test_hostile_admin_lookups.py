"""Whatever a list page's URL filters by, every model admin of the site answers without a
server error (logs/admin_site.py).

Django's admin filters a list by any field of its model named in the URL and checks the field,
not the value: a NUL, a year of 0 or of twenty digits, a date whose time zone has no UTC
equivalent, or text for an address column ended in a 500 on one database or both.
"""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st

from logs.admin_site import PortalAdminSite, RefusedLookupValues
from logs.models import AuditEvent
from tests.support import DATABASE_EXAMPLES

pytestmark = pytest.mark.django_db

# Every list but the audit events' (its FilterSet refuses what it cannot read: tests/filters).
ADMINS = sorted(
    (model_admin for model, model_admin in admin.site._registry.items() if model is not AuditEvent),
    key=lambda model_admin: model_admin.opts.label,
)


def fields_of(model_admin) -> list[str]:
    return [field.name for field in model_admin.opts.concrete_fields]


LOOKUPS = ["", "__exact", "__gte", "__lt", "__year", "__month", "__in", "__has_key", "__contains"]
HOSTILE_VALUES = st.one_of(
    st.text(max_size=30).map(lambda text: f"{text}\x00{text}"),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(
        [
            "0",
            "-1",
            "99999999999999999999999",
            "0001-01-01T00:00:00+23:59",
            "9999-12-31T23:59:59-14:00",
            "notanip",
            "1e309",
            "",
        ]
    ),
    st.text(max_size=40),
)


@pytest.fixture
def superuser_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("admin"))
    return client


def changelist_url(model_admin) -> str:
    opts = model_admin.opts
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")


def test_every_model_admin_of_the_site_refuses_values_the_database_cannot_take():
    assert ADMINS, "the site registers more than the audit events"
    assert all(isinstance(model_admin, RefusedLookupValues) for model_admin in ADMINS)


@DATABASE_EXAMPLES
@example(label="logs.AccessRecord", field="action", lookup="", value="\x00")
@example(label="logs.AccessRecord", field="remote_address", lookup="", value="notanip")
@example(label="logs.AccessRecord", field="created_at", lookup="__year", value="0")
@example(
    label="logs.AccessRecord", field="created_at", lookup="__gte", value="0001-01-01T00:00:00+23:59"
)
@example(label="logs.ImportBatch", field="started_at", lookup="__year", value="9" * 23)
@example(label="logs.LegalHold", field="filters", lookup="__has_key", value="\x00")
@given(
    label=st.sampled_from([model_admin.opts.label for model_admin in ADMINS]),
    field=st.data(),
    lookup=st.sampled_from(LOOKUPS),
    value=HOSTILE_VALUES,
)
def test_a_list_filtered_by_any_value_is_never_a_server_error(
    superuser_client, label, field, lookup, value
):
    model_admin = next(m for m in ADMINS if m.opts.label == label)
    if not isinstance(field, str):
        field = field.draw(st.sampled_from(fields_of(model_admin)))
    response = superuser_client.get(changelist_url(model_admin), {f"{field}{lookup}": value})
    # The list, Django's own answer to a lookup it refuses (a redirect), or the site's 400.
    assert response.status_code in (200, 302, 400), (label, field, lookup, value)


@pytest.mark.parametrize("model_admin", ADMINS, ids=lambda model_admin: model_admin.opts.label)
def test_an_object_id_with_a_nul_is_no_object(superuser_client, model_admin):
    opts = model_admin.opts
    for view in ("change", "delete", "history"):
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=["a\x00b"])
        # Django's answer to an id of no object: to the list (302) or a 404; 403 for a page
        # nobody may open there (a read-only list has no delete page).
        assert superuser_client.get(url).status_code in (302, 403, 404), url


def test_the_refusal_is_a_400(superuser_client):
    response = superuser_client.get("/admin/logs/accessrecord/", {"created_at__year": "9" * 23})
    assert response.status_code == 400


def test_a_nul_in_a_filter_is_a_400_on_either_database(superuser_client):
    """SQLite would take the NUL and PostgreSQL refuse it: refused first, on both."""
    for query in ({"action": "\x00"}, {"act\x00ion": "sign-in"}):
        response = superuser_client.get("/admin/logs/accessrecord/", query)
        assert response.status_code == 400, query
    assert (
        superuser_client.get("/admin/logs/accessrecord/", {"action": "sign-in"}).status_code == 200
    )


def test_the_site_gives_every_model_admin_it_registers_the_check():
    class OwnAdmin(admin.ModelAdmin):
        pass

    site = PortalAdminSite(name="registration-probe")
    site.register(Group)  # no model admin given: Django's own
    site.register(Permission, OwnAdmin)
    assert isinstance(site._registry[Group], RefusedLookupValues)
    assert isinstance(site._registry[Permission], RefusedLookupValues)
    assert isinstance(site._registry[Permission], OwnAdmin)


def test_the_audit_event_list_keeps_its_own_checks(superuser_client):
    """Its FilterSet answers an unknown filter itself: the list, with the refusal shown."""
    response = superuser_client.get("/admin/logs/auditevent/", {"categroy": "x"})
    assert response.status_code == 200
    assert "categroy" in response.content.decode()
