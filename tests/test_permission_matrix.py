"""Every role against every interface: the admin's pages and actions, the API's endpoints and
formats, and the access trail. One table states every expected outcome.

Rows are who asks: anonymous, a staff user with no role, each of the four roles (staff users,
so that only the role decides), and a superuser. Human users use the admin with a session and
the API with a token, as they do in practice. Outcomes:

- ``Y`` served: a page (200), a file (200 with an attachment), a stored change;
- ``N`` refused: 403, 405, an export action that answers with no file, a write that changed
  nothing;
- ``L`` asked to sign in: the admin's login redirect, the API's 401.

Adding an interface is one line in ``MATRIX`` (and, if it needs a new kind of request, one
function that makes it and says which outcome it got).
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from logs import roles
from logs.access_trail import record_access
from logs.models import AccessRecord, AuditEvent, ColumnPreference, LegalHold, LegalHoldRelease
from logs.retention.holds import place_hold
from tests.factories import AuditEventFactory
from tests.support import FIXTURES_DIR

pytestmark = pytest.mark.django_db

ROWS = [
    "anonymous",
    "no role",
    roles.AUDIT_READER,
    roles.AUDIT_EXPORTER,
    roles.COMPLIANCE_ADMINISTRATOR,
    roles.INGESTION_SERVICE,
    "superuser",
]

EVENTS = "/admin/logs/auditevent/"
TRAIL = "/admin/logs/accessrecord/"
SOURCES = "/admin/logs/collectionsource/"
API = "/api/v1/"
GRAPH = "/graph/v1.0/auditLogs/directoryAudits"
GRAPH_PAGE = (FIXTURES_DIR / "graph" / "graph-docs-list-example1.json").read_bytes()


@dataclass
class World:
    """What one cell's request runs against."""

    user: object  # None for anonymous
    event: AuditEvent
    record: AccessRecord

    def admin(self) -> Client:
        client = Client()
        if self.user is not None:
            client.force_login(self.user)
        return client

    def api(self) -> APIClient:
        client = APIClient()
        if self.user is not None:
            _, token = AuthToken.objects.create(self.user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client

    def graph(self) -> APIClient:
        """The Graph-compatible endpoint's client: the API token as a bearer token."""
        client = APIClient()
        if self.user is not None:
            _, token = AuthToken.objects.create(self.user)
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    def fmt(self, url: str) -> str:
        return url.format(event=self.event.pk, record=self.record.pk, entra=self.event.entra_id)


# -- how a request is made and its outcome read -----------------------------------------------
def _admin_outcome(response, *, file: bool = False) -> str:
    if response.status_code == 302 and response["Location"].startswith("/admin/login/"):
        return "L"
    if response.status_code == 403:
        return "N"
    if response.status_code == 200:
        attachment = "attachment" in response.get("Content-Disposition", "")
        if response.streaming:
            b"".join(response.streaming_content)  # the export is recorded when it ends
        if attachment == file:
            return "Y"
    raise AssertionError(f"unexpected answer {response.status_code} {response.items()}")


def admin_page(url: str) -> Callable[[World], str]:
    def run(world):
        return _admin_outcome(world.admin().get(world.fmt(url)))

    return run


def admin_file(url: str) -> Callable[[World], str]:
    def run(world):
        return _admin_outcome(world.admin().get(world.fmt(url)), file=True)

    return run


def admin_action(action: str) -> Callable[[World], str]:
    """An "Export selected" action on the changelist: a file, or the list again without one
    (where the action is not offered, the POST is not taken as an action at all)."""

    def run(world):
        response = world.admin().post(
            EVENTS, {"action": action, "_selected_action": [str(world.event.pk)]}
        )
        if "attachment" in response.get("Content-Disposition", ""):
            return _admin_outcome(response, file=True)
        if response.status_code == 200 or (
            response.status_code == 302 and response["Location"] == EVENTS
        ):
            return "N"
        return _admin_outcome(response)

    return run


def column_chooser(world) -> str:
    response = world.admin().post(f"{EVENTS}columns/", {"columns": ["activity", "status"]})
    if response.status_code == 302 and response["Location"] == EVENTS:
        assert ColumnPreference.objects.filter(user=world.user).exists()
        return "Y"
    return _admin_outcome(response)


def admin_write(url: str, still_there: Callable[[World], bool]) -> Callable[[World], str]:
    """A POST that would add, change or delete evidence; ``Y`` only if it took effect."""

    def run(world):
        response = world.admin().post(world.fmt(url), {"post": "yes", "activity": "changed"})
        outcome = "Y" if not still_there(world) else None
        if response.status_code == 302 and response["Location"].startswith("/admin/login/"):
            return outcome or "L"
        return outcome or "N"

    return run


def event_unchanged(world) -> bool:
    stored = AuditEvent.objects.filter(pk=world.event.pk).values_list("activity_id", flat=True)
    return list(stored) == [world.event.activity_id]


def record_unchanged(world) -> bool:
    return AccessRecord.objects.filter(pk=world.record.pk, username="alice").exists()


def no_new_event(world) -> bool:
    return AuditEvent.objects.count() == 1


HOLDS = "/admin/logs/legalhold/"


def a_hold() -> LegalHold:
    return place_hold("Matter", reason="r", filters={"correlation_id": "c"}, username="x")


def hold_page(world) -> str:
    return _admin_outcome(world.admin().get(f"{HOLDS}{a_hold().pk}/change/"))


def place_hold_form(world) -> str:
    """Placing a hold through the admin's form; ``Y`` only if the hold was stored."""
    response = world.admin().post(
        HOLDS + "add/", {"name": "Placed", "reason": "r", "correlation_id": "c"}
    )
    if LegalHold.objects.filter(name="Placed").exists():
        return "Y"
    return _admin_outcome(response)


def release_hold_form(world) -> str:
    """Releasing a hold through the admin's form; ``Y`` only if the release was stored."""
    hold = a_hold()
    response = world.admin().post(f"{HOLDS}{hold.pk}/release/", {"reason": "done"})
    if LegalHoldRelease.objects.filter(hold=hold).exists():
        return "Y"
    return _admin_outcome(response)


def change_hold_form(world) -> str:
    hold = a_hold()
    response = world.admin().post(f"{HOLDS}{hold.pk}/change/", {"name": "X", "reason": "x"})
    if LegalHold.objects.get(pk=hold.pk).name != "Matter":
        return "Y"
    return _admin_outcome(response)


def _api_outcome(response, ok=(200,)) -> str:
    if response.streaming:
        b"".join(response.streaming_content)
    if response.status_code in ok:
        return "Y"
    return {401: "L", 403: "N", 405: "N"}[response.status_code]


def api_get(url: str, **headers) -> Callable[[World], str]:
    def run(world):
        return _api_outcome(world.api().get(world.fmt(url), **headers))

    return run


def graph_get(url: str) -> Callable[[World], str]:
    def run(world):
        return _api_outcome(world.graph().get(world.fmt(url)))

    return run


def graph_delete_event(world) -> str:
    outcome = _api_outcome(world.graph().delete(world.fmt(GRAPH + "/{entra}")))
    assert AuditEvent.objects.filter(pk=world.event.pk).exists()
    return outcome


def api_delete_event(world) -> str:
    outcome = _api_outcome(world.api().delete(f"{API}events/{world.event.pk}/"))
    assert AuditEvent.objects.filter(pk=world.event.pk).exists()
    return outcome


def api_ingest(world) -> str:
    response = world.api().generic(
        "POST", f"{API}ingest/", GRAPH_PAGE, content_type="application/json"
    )
    return _api_outcome(response, ok=(200, 201))


# -- the matrix ------------------------------------------------------------------------------
# Columns of each string: anonymous, no role, Audit Reader, Audit Exporter,
# Compliance Administrator, Ingestion Service, superuser.
MATRIX: list[tuple[str, Callable[[World], str], str]] = [
    # the admin: audit events
    ("admin changelist", admin_page(EVENTS), "L N Y Y Y N Y"),
    ("admin event detail", admin_page(EVENTS + "{event}/change/"), "L N Y Y Y N Y"),
    ("admin event history", admin_page(EVENTS + "{event}/history/"), "L N Y Y Y N Y"),
    ("admin Insights", admin_page(EVENTS + "insights/"), "L N Y Y Y N Y"),
    ("admin column chooser", column_chooser, "L N Y Y Y N Y"),
    ("admin Download CSV", admin_file(EVENTS + "export/csv/"), "L N N Y Y N Y"),
    ("admin Download JSON", admin_file(EVENTS + "export/json/"), "L N N Y Y N Y"),
    ("admin Export selected CSV", admin_action("export_selected_csv"), "L N N Y Y N Y"),
    ("admin Export selected JSON", admin_action("export_selected_json"), "L N N Y Y N Y"),
    ("admin add event", admin_write(EVENTS + "add/", no_new_event), "L N N N N N N"),
    (
        "admin change event",
        admin_write(EVENTS + "{event}/change/", event_unchanged),
        "L N N N N N N",
    ),
    (
        "admin delete event",
        admin_write(EVENTS + "{event}/delete/", event_unchanged),
        "L N N N N N N",
    ),
    ("admin import batches", admin_page("/admin/logs/importbatch/"), "L N Y Y Y N Y"),
    # the admin: collection sources, their health for readers, their settings for administrators
    ("admin collection sources", admin_page(SOURCES), "L N Y Y Y N Y"),
    ("admin add collection source", admin_page(SOURCES + "add/"), "L N N N Y N Y"),
    # the admin: the access trail and API tokens
    ("admin access records", admin_page(TRAIL), "L N N N Y N Y"),
    ("admin access record detail", admin_page(TRAIL + "{record}/change/"), "L N N N Y N Y"),
    ("admin add access record", admin_page(TRAIL + "add/"), "L N N N N N N"),
    (
        "admin change access record",
        admin_write(TRAIL + "{record}/change/", record_unchanged),
        "L N N N N N N",
    ),
    (
        "admin delete access record",
        admin_write(TRAIL + "{record}/delete/", record_unchanged),
        "L N N N N N N",
    ),
    ("admin API tokens", admin_page("/admin/knox/authtoken/"), "L N Y Y Y N Y"),
    # the admin: legal holds
    ("admin legal holds", admin_page(HOLDS), "L N Y Y Y N Y"),
    ("admin legal hold detail", hold_page, "L N Y Y Y N Y"),
    ("admin place legal hold", place_hold_form, "L N N N Y N Y"),
    ("admin release legal hold", release_hold_form, "L N N N Y N Y"),
    ("admin change legal hold", change_hold_form, "L N N N N N N"),
    # the API, with a token
    ("API events", api_get(API + "events/"), "L N Y Y Y N Y"),
    ("API event", api_get(API + "events/{event}/"), "L N Y Y Y N Y"),
    ("API events format=csv", api_get(API + "events/?format=csv"), "L N N Y Y N Y"),
    ("API events format=json", api_get(API + "events/?format=json"), "L N N Y Y N Y"),
    ("API events format=ndjson", api_get(API + "events/?format=ndjson"), "L N N Y Y N Y"),
    (
        "API events Accept: text/csv",
        api_get(API + "events/", HTTP_ACCEPT="text/csv"),
        "L N N Y Y N Y",
    ),
    ("API delete event", api_delete_event, "L N N N N N N"),
    ("API services", api_get(API + "services/"), "L N Y Y Y N Y"),
    ("API categories", api_get(API + "categories/"), "L N Y Y Y N Y"),
    ("API activities", api_get(API + "activities/"), "L N Y Y Y N Y"),
    ("API initiators", api_get(API + "initiators/"), "L N Y Y Y N Y"),
    ("API insights", api_get(API + "insights/"), "L N Y Y Y N Y"),
    ("API reports (former insights path)", api_get(API + "reports/"), "L N Y Y Y N Y"),
    ("API legal holds", api_get(API + "legal-holds/"), "L N Y Y Y N Y"),
    ("API schema", api_get("/api/schema/?format=json"), "L N Y Y Y Y Y"),
    ("API docs", api_get("/api/docs/"), "L N Y Y Y Y Y"),
    ("API ingest", api_ingest, "L N N N N Y Y"),
    # the Graph-compatible endpoint, with the token as a bearer token
    ("Graph directoryAudits", graph_get(GRAPH), "L N Y Y Y N Y"),
    ("Graph directoryAudit", graph_get(GRAPH + "/{entra}"), "L N Y Y Y N Y"),
    (
        "Graph beta directoryAudits",
        graph_get("/graph/beta/auditLogs/directoryAudits"),
        "L N Y Y Y N Y",
    ),
    ("Graph delete directoryAudit", graph_delete_event, "L N N N N N N"),
]

CELLS = [
    pytest.param(row, check, expected.split()[index], id=f"{name} | {row}")
    for name, check, expected in MATRIX
    for index, row in enumerate(ROWS)
]


def test_the_matrix_has_a_column_per_row():
    assert all(len(expected.split()) == len(ROWS) for _, _, expected in MATRIX)


def make_user(django_user_model, row: str):
    if row == "anonymous":
        return None
    if row == "superuser":
        return django_user_model.objects.create_superuser("root", password="unused-pw")
    user = django_user_model.objects.create_user("member", password="unused-pw", is_staff=True)
    if row != "no role":
        user.groups.add(Group.objects.get(name=row))
    return user


@pytest.mark.parametrize("row, check, expected", CELLS)
def test_permission(django_user_model, row, check, expected):
    world = World(
        user=make_user(django_user_model, row),
        event=AuditEventFactory(),
        record=record_access(AccessRecord.Action.QUERY, user=None, username="alice"),
    )
    assert check(world) == expected


def test_a_refused_export_leaves_no_export_record(django_user_model):
    world = World(
        user=make_user(django_user_model, roles.AUDIT_READER),
        event=AuditEventFactory(),
        record=record_access(AccessRecord.Action.QUERY, user=None, username="alice"),
    )
    for name, check, _ in MATRIX:
        if "Download" in name or "Export" in name or "format=" in name:
            assert check(world) == "N"
    assert not AccessRecord.objects.filter(action=AccessRecord.Action.EXPORT).exists()


def test_an_allowed_export_is_recorded_per_request(django_user_model):
    world = World(
        user=make_user(django_user_model, roles.AUDIT_EXPORTER),
        event=AuditEventFactory(),
        record=record_access(AccessRecord.Action.QUERY, user=None, username="alice"),
    )
    exports = [check for name, check, _ in MATRIX if "Download" in name or "format=" in name]
    for check in exports:
        assert check(world) == "Y"
    recorded = AccessRecord.objects.filter(action=AccessRecord.Action.EXPORT, user=world.user)
    assert recorded.count() == len(exports)
    assert {record.detail["format"] for record in recorded} == {"csv", "json", "ndjson"}
