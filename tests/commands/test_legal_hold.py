"""``legal_hold``: placing, releasing and listing holds; what a hold may cover; the rows are
immutable and both changes are in the access trail."""

import json
from datetime import timedelta
from io import StringIO

import factory.random
import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from logs.activity_catalogue import SUBSTRATE_WRITE_BACKS
from logs.immutability import ImmutableRecordError
from logs.ingest.generated import store_generated_records
from logs.models import AccessRecord, Annotation, AuditEvent, LegalHold, LegalHoldRelease
from logs.retention.holds import HOLD_FILTERS, HoldError, place_hold, release_hold
from tests.factories import GraphDirectoryAuditFactory
from tests.retention.support import store_events

pytestmark = pytest.mark.django_db


def legal_hold(*arguments) -> str:
    out = StringIO()
    call_command("legal_hold", *arguments, stdout=out)
    return out.getvalue()


def test_add_list_release():
    old = store_events(400, 401)
    output = legal_hold("add", "Smith v Contoso", "--reason", "Court order 12", "--event-id", *old)
    assert "Legal hold 'Smith v Contoso' placed (2 listed events)" in output
    assert "covers 2 stored events" in output

    listed = legal_hold("list")
    assert "Smith v Contoso: active, covers 2 stored events; 2 listed events" in listed
    assert "Court order 12" in listed

    output = legal_hold("release", "Smith v Contoso", "--reason", "Case closed")
    assert "released" in output
    listed = legal_hold("list")
    assert "Smith v Contoso: released" in listed
    assert "Case closed" in listed
    hold = LegalHold.objects.get()
    assert hold.release.reason == "Case closed"
    assert not LegalHold.objects.active().exists()


def test_filters_are_the_export_options():
    store_events(400, category="UserManagement")
    legal_hold(
        "add", "Filtered", "--reason", "r", "--category", "UserManagement",
        "--since", "2020-01-01T00:00:00Z", "--until", "2021-01-01T00:00:00Z",
    )  # fmt: skip
    hold = LegalHold.objects.get()
    assert hold.filters == {
        "category": "UserManagement",
        "since": "2020-01-01T00:00:00Z",
        "until": "2021-01-01T00:00:00Z",
    }
    assert hold.event_ids == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--period", "7d"], "--period: A hold needs fixed dates"),
        (["--ordering", "date"], "--ordering: Orders events"),
        ([], "filters: A hold needs at least one filter"),
        (["--result", "nonsense"], "--result: Select a valid choice"),
        (["--since", "yesterday"], "--since: Enter a valid date/time"),
        (["--category", "NoSuchCategory"], "--category: Select a valid choice"),
        (["--correlation-id", "c", "--event-id", "x"], "--event-id: A hold covers filtered"),
        (["--since", "2021-01-01", "--until", "2020-01-01"], "--since: Must not be later"),
        (["--event-id", "x" * 300], "--event-id: Not an activity id"),
        (["--correlation-id", "a\x00b"], "--correlation-id: Must be one text value"),
    ],
)
def test_refusals_name_the_option(arguments, message):
    with pytest.raises(CommandError) as refused:
        legal_hold("add", "H", "--reason", "r", *arguments)
    assert message in str(refused.value)
    assert not LegalHold.objects.exists()
    assert not AccessRecord.objects.exists()


def test_names_are_never_reused_and_reasons_are_required():
    legal_hold("add", "Once", "--reason", "r", "--correlation-id", "c")
    with pytest.raises(CommandError, match="exists already"):
        legal_hold("add", "Once", "--reason", "again", "--correlation-id", "d")
    with pytest.raises(CommandError, match="--reason: A hold needs a reason"):
        legal_hold("add", "Twice", "--reason", "  ", "--correlation-id", "c")
    with pytest.raises(CommandError, match="--reason: Releasing a hold needs a reason"):
        legal_hold("release", "Once", "--reason", "")
    with pytest.raises(CommandError, match="No hold is named 'Nope'"):
        legal_hold("release", "Nope", "--reason", "r")
    legal_hold("release", "Once", "--reason", "done")
    with pytest.raises(CommandError, match="released already"):
        legal_hold("release", "Once", "--reason", "again")
    # Released, the name stays taken: the trail and the archive speak of one hold per name.
    with pytest.raises(CommandError, match="exists already"):
        legal_hold("add", "Once", "--reason", "r", "--correlation-id", "c")
    assert LegalHold.objects.count() == 1
    assert LegalHoldRelease.objects.count() == 1


def test_placing_and_releasing_are_in_the_access_trail():
    legal_hold("add", "Trail", "--reason", "why", "--correlation-id", "abc")
    legal_hold("release", "Trail", "--reason", "because")
    placed, released = AccessRecord.objects.filter(action=AccessRecord.Action.LEGAL_HOLD).order_by(
        "id"
    )
    assert placed.detail == {
        "change": "placed",
        "hold": "Trail",
        "reason": "why",
        "filters": {"correlation_id": "abc"},
        "event_ids": [],
    }
    assert placed.row_count == 0
    assert released.detail == {"change": "released", "hold": "Trail", "reason": "because"}
    hold = LegalHold.objects.get()
    assert placed.username == hold.placed_by == hold.release.released_by


def test_hold_rows_are_immutable():
    hold = place_hold("Fixed", reason="r", filters={"correlation_id": "c"}, username="u")
    release = release_hold("Fixed", reason="done", username="u")
    hold = LegalHold.objects.get(pk=hold.pk)
    hold.reason = "changed"
    with pytest.raises(ImmutableRecordError):
        hold.save()
    with pytest.raises(ImmutableRecordError):
        LegalHold.objects.update(reason="changed")
    with pytest.raises(ImmutableRecordError):
        LegalHold.objects.all().delete()
    with pytest.raises(ImmutableRecordError):
        release.delete()
    with pytest.raises(ImmutableRecordError):
        LegalHoldRelease.objects.update(reason="changed")
    assert LegalHold.objects.get().reason == "r"
    assert LegalHoldRelease.objects.get().reason == "done"


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE logs_legalhold SET reason = 'changed'",
        "DELETE FROM logs_legalhold",
        "UPDATE logs_legalholdrelease SET reason = 'changed'",
        "DELETE FROM logs_legalholdrelease",
    ],
)
def test_postgres_refuses_raw_changes_to_holds(statement):
    place_hold("Fixed", reason="r", filters={"correlation_id": "c"}, username="u")
    release_hold("Fixed", reason="done", username="u")
    rejected = pytest.raises(DatabaseError, match="immutable")
    with rejected, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert LegalHold.objects.get().reason == "r"
    assert LegalHoldRelease.objects.get().reason == "done"


# -- a hold means what the same filter means everywhere -----------------------------------------
@pytest.fixture
def varied_old_events():
    """Events of every kind, all past the retention policy; the same ones every time."""
    factory.random.reseed_random(2024)
    now = timezone.now()
    records = [GraphDirectoryAuditFactory(moment=now - timedelta(days=400 + n)) for n in range(10)]
    records.append(GraphDirectoryAuditFactory(moment=now - timedelta(days=420), failure=True))
    # A Substrate write-back, annotated informational on import.
    records.append(
        GraphDirectoryAuditFactory(
            moment=now - timedelta(days=421), substrate=True, entry=SUBSTRATE_WRITE_BACKS[0]
        )
    )
    records += [
        GraphDirectoryAuditFactory(
            moment=now - timedelta(days=430 + n), loggedByService="Self-service Password Management"
        )
        for n in range(2)
    ]
    # A value that does not fit (an unknown result): stored with a normalisation note.
    records.append(GraphDirectoryAuditFactory(moment=now - timedelta(days=440), result="partly"))
    assert store_generated_records(records, label="varied").new == len(records)
    # One event marked as the same event as another, as a portal CSV row would be.
    first, second = AuditEvent.objects.order_by("pk")[:2]
    Annotation.objects.create(
        event=second, kind=Annotation.Kind.DUPLICATE, duplicate_of=first, text="d", source="test"
    )


def other_case(text: str) -> str:
    """``text`` with its ASCII letters in the other case (SQLite folds no other letters)."""
    return "".join(char.swapcase() if char.isascii() else char for char in text)


def _value_for(name: str) -> str:
    """A value of filter ``name`` that selects some of the stored events."""
    event = (
        AuditEvent.objects.select_related("service", "category", "activity", "initiator")
        .filter(initiator__user_principal_name__gt="")
        .order_by("activity_datetime")
        .first()
    )
    target = event.targets.order_by("position").first()
    middle = AuditEvent.objects.order_by("activity_datetime")[5].activity_datetime
    app_event = (
        AuditEvent.objects.select_related("initiator")
        .filter(initiator__app_id__gt="")
        .order_by("activity_datetime")
        .first()
    )
    return {
        "after": middle.isoformat(),
        "before": middle.isoformat(),
        "activity_id": event.entra_id,
        "activity_name": other_case(event.activity.name),
        "activity_name_startswith": event.activity.name[:4].lower(),
        "service_name": "self-service password management",
        "category_name": other_case(event.category.name),
        "initiator_user_id": event.initiator.user_object_id,
        "initiator_user_name": event.initiator.user_display_name,
        "initiator_upn": other_case(event.initiator.user_principal_name),
        "initiator_upn_startswith": event.initiator.user_principal_name[:3],
        "initiator_app_id": app_event.initiator.app_id if app_event else "",
        "initiator_app_name": app_event.initiator.app_display_name if app_event else "",
        "target_id": target.object_id,
        "target_name": other_case(target.display_name),
        "target_name_startswith": target.display_name[:3],
        "since": middle.isoformat(),
        "until": middle.isoformat(),
        "service": "Self-service Password Management",
        "category": event.category.name,
        "activity": event.activity.name,
        "result": "failure",
        "operation_type": event.operation_type,
        "initiator": event.initiator.user_principal_name,
        "target": target.display_name,
        "target_type": target.type,
        "correlation_id": event.correlation_id,
        "informational": "true",
        "notes": "true",
        "duplicates": "only",
        "search": event.activity.name.split()[0].lower(),
    }[name]


def exported_ids(name: str, value: str) -> set[str]:
    out = StringIO()
    option = "--" + name.replace("_", "-")
    # A hold keeps duplicates too, which an export shows when asked.
    shown = [] if name == "duplicates" else ["--duplicates", "show"]
    call_command(
        "export_audit_logs",
        "--format",
        "ndjson",
        option,
        value,
        *shown,
        stdout=out,
        stderr=StringIO(),
    )
    return {json.loads(line)["id"] for line in out.getvalue().splitlines() if line}


@pytest.mark.parametrize("name", HOLD_FILTERS)
def test_a_hold_keeps_exactly_what_the_export_of_the_same_filter_writes(varied_old_events, name):
    value = _value_for(name)
    expected = exported_ids(name, value)
    assert 0 < len(expected) < AuditEvent.objects.count(), (name, value)

    legal_hold("add", "Same filter", "--reason", "r", "--" + name.replace("_", "-"), value)
    call_command("apply_retention", "--no-archive", stdout=StringIO())

    assert set(AuditEvent.objects.values_list("entra_id", flat=True)) == expected


# -- hostile input --------------------------------------------------------------------------
text = st.text(st.characters(codec="utf-8"), max_size=300)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    filters=st.dictionaries(st.sampled_from([*HOLD_FILTERS, "period", "ordering", "bogus"]), text),
    event_ids=st.lists(text, max_size=5),
    name=text,
    reason=text,
)
# PostgreSQL refuses NUL in text outright, in a query too: each field is checked for it first.
@example(filters={"correlation_id": "c"}, event_ids=[], name="a\x00b", reason="r")
@example(filters={"correlation_id": "c"}, event_ids=[], name="n", reason="a\x00b")
def test_any_input_is_placed_or_refused_with_a_hold_error(filters, event_ids, name, reason):
    before = LegalHold.objects.count()
    try:
        with transaction.atomic():
            hold = place_hold(
                name, reason=reason, filters=filters, event_ids=event_ids, username="fuzz"
            )
            # What was stored applies: retention could use it.
            assert hold.covered_now >= 0
            transaction.set_rollback(True)
    except HoldError as error:
        assert error.errors
    assert LegalHold.objects.count() == before


@settings(max_examples=40, deadline=None)
@given(name=text, reason=text)
@example(name="a\x00b", reason="r")
@example(name="Fixed", reason="a\x00b")
def test_any_release_is_done_or_refused_with_a_hold_error(name, reason):
    with transaction.atomic():
        place_hold("Fixed", reason="r", filters={"correlation_id": "c"}, username="u")
        try:
            release_hold(name, reason=reason, username="fuzz")
        except HoldError as error:
            assert error.errors
        transaction.set_rollback(True)
