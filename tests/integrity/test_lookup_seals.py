"""Lookup rows (the text events show) are immutable and sealed: the ORM and the triggers refuse
changes, and verify_audit_log finds a change made around both, naming the field and events."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, transaction

from logs.derived_rows import DerivedMismatch
from logs.immutability import ImmutableRecordError
from logs.ingest.generated import store_generated_records
from logs.ingest.records import InitiatorRecord
from logs.integrity import verify_chain
from logs.lookup_seals import LOOKUPS, seal_of
from logs.models import (
    Activity,
    AuditEvent,
    Category,
    DetailsList,
    Initiator,
    LookupSeal,
    Service,
    TargetName,
    UserAgent,
)
from logs.models.lookups import text_digest
from tests.factories import (
    AuditEventFactory,
    GraphDirectoryAuditFactory,
    GraphTargetResourceFactory,
)
from tests.retention.support import store_events
from tests.tampering import switch_off_immutability_triggers

pytestmark = pytest.mark.django_db

LOOKUP_MODELS = [Service, Category, Activity, Initiator, TargetName, DetailsList, UserAgent]


def verify() -> str:
    out = StringIO()
    call_command("verify_audit_log", stdout=out)
    return out.getvalue()


def raw(sql: str, parameters=()) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, parameters)


def an_event_with_a_target(name: str) -> None:
    """Import an event whose one target is named ``name``, with one additional detail, as a
    file's event is imported."""
    record = GraphDirectoryAuditFactory(
        targetResources=[GraphTargetResourceFactory(displayName=name)],
        additionalDetails=[{"key": "User-Agent", "value": "Mozilla/5.0"}],
    )
    assert store_generated_records([record], label="lookup seal test").new == 1


def a_row_of(model):
    """A stored row of ``model`` that stored events show (or, for target names, search by)."""
    an_event_with_a_target("Alex Wilber")
    return model.objects.order_by("pk").first()


# The ORM ----------------------------------------------------------------------------------


@pytest.mark.parametrize("model", LOOKUP_MODELS, ids=lambda model: model.__name__)
def test_the_orm_refuses_to_update_a_lookup(model):
    row = a_row_of(model)
    field = model.NATURAL_KEY if model is not Initiator else "user_principal_name"
    with pytest.raises(ImmutableRecordError, match=r"update\(\)"):
        model.objects.filter(pk=row.pk).update(**{field: "Nothing happened"})
    setattr(row, field, "Nothing happened")
    with pytest.raises(ImmutableRecordError, match="immutable"):
        row.save()
    with pytest.raises(ImmutableRecordError):
        model.objects.bulk_update([row], [field])
    assert getattr(model.objects.get(pk=row.pk), field) != "Nothing happened"


@pytest.mark.parametrize("model", LOOKUP_MODELS, ids=lambda model: model.__name__)
def test_the_orm_refuses_to_delete_a_lookup(model):
    row = a_row_of(model)
    with pytest.raises(ImmutableRecordError, match=r"delete\(\)"):
        model.objects.filter(pk=row.pk).delete()
    with pytest.raises(ImmutableRecordError):
        row.delete()
    assert model.objects.filter(pk=row.pk).exists()


def test_creating_lookups_stays_allowed_and_seals_them():
    Activity.objects.create(name="Add member to group")
    Service.objects.bulk_create([Service(name="Core Directory"), Service(name="PIM")])
    Service.objects.bulk_create([Service(name="PIM"), Service(name="B2C")], ignore_conflicts=True)
    store_events(1)
    an_event_with_a_target("Alex Wilber")
    sealed = {(seal.lookup, seal.row_id) for seal in LookupSeal.objects.all()}
    for lookup in LOOKUPS.values():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {lookup.table}")
            ids = [row[0] for row in cursor.fetchall()]
        assert ids, lookup.name
        assert {(lookup.name, pk) for pk in ids} <= sealed
    result = verify_chain()
    assert result.ok, result.broken
    assert result.lookups == len(sealed)
    assert verify().startswith(f"OK 2 events, {len(sealed)} lookup rows sealed;")


# The triggers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE logs_activity SET name = 'Nothing happened'",
        "UPDATE logs_service SET name = 'Nothing happened'",
        "UPDATE logs_category SET name = 'Nothing happened'",
        "UPDATE logs_initiator SET user_principal_name = 'nobody@contoso.com'",
        "UPDATE logs_targetname SET name = 'nobody'",
        """UPDATE logs_detailslist SET entries = '[{"key": "User-Agent", "value": "curl"}]'""",
        "DELETE FROM logs_detailslist",
        "UPDATE logs_useragent SET text = 'curl'",
        "DELETE FROM logs_useragent",
        "UPDATE logs_lookupseal SET seal = seal",
        "DELETE FROM logs_activity",
        "DELETE FROM logs_initiator",
        "DELETE FROM logs_lookupseal",
    ],
)
def test_the_triggers_refuse_raw_sql_changes_of_lookups(statement):
    an_event_with_a_target("Alex Wilber")
    with pytest.raises(DatabaseError, match="immutable"):
        raw(statement)
    assert verify_chain().ok


# Verification, with the triggers off --------------------------------------------------------


@pytest.fixture
def triggers_off():
    switch_off_immutability_triggers()


def events_of(**lookup) -> list[int]:
    return list(AuditEvent.objects.filter(**lookup).order_by("pk").values_list("pk", flat=True))


@pytest.mark.parametrize(
    ("table", "field", "reference"),
    [
        ("logs_activity", "name", "activity"),
        ("logs_service", "name", "service"),
        ("logs_category", "name", "category"),
        ("logs_initiator", "user_principal_name", "initiator"),
        ("logs_initiator", "app_display_name", "initiator"),
    ],
)
def test_verify_names_a_relabelled_lookup_its_field_and_events(
    triggers_off, table, field, reference
):
    store_events(1, 2, 3)
    relabelled = AuditEvent.objects.order_by("pk").first()
    pk = getattr(relabelled, f"{reference}_id")
    shown = events_of(**{reference: pk})
    raw(f"UPDATE {table} SET {field} = 'Nothing happened' WHERE id = %s", [pk])

    broken = verify_chain().broken
    assert broken.kind == "modified"
    assert broken.event_id == shown[0]
    assert f"{LOOKUPS[table].name} {pk}: its {field} no longer matches its seal" in broken.detail
    ids = ", ".join(str(event) for event in shown[:5])
    assert f"{len(shown)} events show it (event ids {ids}" in broken.detail
    with pytest.raises(CommandError, match=rf"BROKEN .*modified: event id {shown[0]}: .*{field}"):
        verify()


def test_verify_names_at_most_five_events_and_counts_them_all(triggers_off):
    for _ in range(7):
        AuditEventFactory()
    activity = Activity.objects.get()
    raw("UPDATE logs_activity SET name = 'Nothing happened' WHERE id = %s", [activity.pk])
    detail = verify_chain().broken.detail
    ids = ", ".join(str(pk) for pk in events_of(activity=activity)[:5])
    assert f"7 events show it (event ids {ids}, ...)" in detail


def test_verify_finds_two_lookups_that_swapped_texts_and_seals(triggers_off):
    first, second = (
        Activity.objects.create(name="Add user"),
        Activity.objects.create(name="Delete user"),
    )
    AuditEventFactory(activity=second)
    # Through a spare value each time: names and seal rows are unique.
    names = "UPDATE logs_activity SET name = %s WHERE id = %s"
    raw(names, ["spare", first.pk])
    raw(names, ["Add user", second.pk])
    raw(names, ["Delete user", first.pk])
    seals = "UPDATE logs_lookupseal SET row_id = %s WHERE lookup = 'activity' AND row_id = %s"
    raw(seals, [-1, first.pk])
    raw(seals, [first.pk, second.pk])
    raw(seals, [second.pk, -1])
    broken = verify_chain().broken
    assert broken.kind == "modified"
    assert f"activity {first.pk}: its name no longer matches" in broken.detail


def test_verify_refuses_a_seal_made_without_the_key(triggers_off):
    event = AuditEventFactory()
    lookup = LOOKUPS["logs_activity"]
    forged = seal_of(lookup, event.activity_id, ["Nothing happened"], secret="a guessed key")
    raw("UPDATE logs_activity SET name = 'Nothing happened' WHERE id = %s", [event.activity_id])
    raw(
        "UPDATE logs_lookupseal SET seal = %s WHERE lookup = 'activity' AND row_id = %s",
        [forged, event.activity_id],
    )
    assert "its name no longer matches its seal" in verify_chain().broken.detail


def test_verify_reports_a_lookup_without_a_seal(triggers_off):
    event = AuditEventFactory()
    raw("DELETE FROM logs_lookupseal WHERE lookup = 'service'")
    broken = verify_chain().broken
    assert (broken.kind, broken.event_id) == ("inserted", event.pk)
    assert f"service {event.service_id} has no seal" in broken.detail


@pytest.mark.parametrize("lookup", ["service", "user agent"])
def test_an_import_does_not_seal_a_lookup_stored_without_one(lookup):
    """A row inserted around auditportal stays unsealed when an import then uses it: the
    import seals only the rows it inserted itself."""
    agent = "Mozilla/5.0 (forged)"
    record = GraphDirectoryAuditFactory(additionalDetails=[{"key": "User-Agent", "value": agent}])
    if lookup == "service":
        raw("INSERT INTO logs_service (name) VALUES (%s)", [record["loggedByService"]])
    else:
        raw(
            "INSERT INTO logs_useragent (digest, text) VALUES (%s, %s)",
            [text_digest(agent), agent],
        )
    assert store_generated_records([record], label="lookup seal test").new == 1
    event = AuditEvent.objects.get()
    assert (event.service.name, event.user_agent.text) == (record["loggedByService"], agent)
    row_id = event.service_id if lookup == "service" else event.user_agent_id
    broken = verify_chain().broken
    assert (broken.kind, broken.event_id) == ("inserted", event.pk)
    assert f"{lookup} {row_id} has no seal" in broken.detail


def test_bulk_create_seals_only_the_rows_it_inserts():
    """Direct ORM use goes the import's way: a row with a matching key stored around
    auditportal keeps no seal, and verification still reports it."""
    raw("INSERT INTO logs_service (name) VALUES ('Forged')")
    forged = Service.objects.get(name="Forged")
    created = Service.objects.bulk_create(
        [Service(name="Forged"), Service(name="PIM"), Service(name="B2C")], ignore_conflicts=True
    )
    by_name = dict(Service.objects.values_list("name", "pk"))
    assert [(row.name, row.pk) for row in created] == [
        ("Forged", None),
        ("PIM", by_name["PIM"]),
        ("B2C", by_name["B2C"]),
    ]
    sealed = set(LookupSeal.objects.filter(lookup="service").values_list("row_id", flat=True))
    assert sealed == {by_name["PIM"], by_name["B2C"]}
    assert f"service {forged.pk} has no seal" in verify_chain().broken.detail


@pytest.mark.parametrize(
    "names", [["PIM", "Core Directory"], ["B2C", "B2C"]], ids=["stored", "twice"]
)
def test_bulk_create_without_ignore_conflicts_refuses_a_stored_or_repeated_key(names):
    Service.objects.create(name="Core Directory")
    with pytest.raises(IntegrityError, match="already stored or given twice"):
        Service.objects.bulk_create([Service(name=name) for name in names])
    assert list(Service.objects.values_list("name", flat=True)) == ["Core Directory"]
    assert LookupSeal.objects.filter(lookup="service").count() == 1


def test_bulk_create_refuses_a_row_with_its_id_set():
    """The id would otherwise be replaced by the database's without a word."""
    with pytest.raises(ValueError, match="id is the database's to give"):
        Service.objects.bulk_create([Service(name="PIM"), Service(id=500, name="B2C")])
    assert not Service.objects.exists()


def test_bulk_create_finds_each_object_by_its_key_as_stored():
    (created,) = Service.objects.bulk_create([Service(name=123)])
    assert created.pk == Service.objects.get(name="123").pk


def test_bulk_create_refuses_to_update_a_stored_lookup():
    Service.objects.create(name="PIM")
    with pytest.raises(ImmutableRecordError):
        Service.objects.bulk_create(
            [Service(name="PIM")],
            update_conflicts=True,
            unique_fields=["name"],
            update_fields=["name"],
        )


@pytest.mark.parametrize("model", [Service, Initiator, TargetName], ids=lambda m: m.__name__)
def test_store_gives_every_rows_id_and_seals_the_new_ones(model):
    """Enough rows for several statements, a third of them stored before: every id given is
    the stored row's, and every row has a seal, which verifies. Initiators come with their
    columns in the loader's order, not the seal's, and their seals still verify."""

    def row(number: int) -> dict:
        name = f"Name {number:05d}"
        if model is Initiator:
            record = InitiatorRecord(kind="user", user_principal_name=name)
            return {
                "identity_key": name,
                "search_text": Initiator.searchable_text(record),
                **{field: getattr(record, field) for field in record.__dataclass_fields__},
            }
        if model is TargetName:
            return {"name": name, "folded": name.casefold()}
        return {"name": name}

    rows = {f"Name {number:05d}": row(number) for number in range(2_500)}
    earlier = model.store({key: rows[key] for key in list(rows)[::3]})
    assert len(earlier) == 834
    given = model.store(rows)
    stored = dict(model.objects.values_list(model.NATURAL_KEY, "pk"))
    assert given == stored
    assert {key: given[key] for key in earlier} == earlier
    lookup = LOOKUPS[model._meta.db_table]
    seals = list(LookupSeal.objects.filter(lookup=lookup.name).values_list("row_id", flat=True))
    assert sorted(seals) == sorted(stored.values())
    assert verify_chain().ok
    assert model.store(rows, ids=False) == {}


def test_verify_reports_a_lookup_deleted_while_its_seal_remains(triggers_off):
    AuditEventFactory()
    unused = Category.objects.create(name="GroupManagement")
    raw("DELETE FROM logs_category WHERE id = %s", [unused.pk])
    broken = verify_chain().broken
    assert broken.kind == "missing"
    assert f"category {unused.pk} was deleted outside retention" in broken.detail
    assert "no stored event shows it" in broken.detail


def test_verify_reports_a_renamed_target_name(triggers_off):
    an_event_with_a_target("Alex Wilber")
    name = TargetName.objects.get(name="Alex Wilber")
    raw("UPDATE logs_targetname SET name = 'Nobody', folded = 'nobody' WHERE id = %s", [name.pk])
    broken = verify_chain().broken
    assert f"target name {name.pk}: its name, folded no longer matches" in broken.detail
    assert "the search find" in broken.detail


def test_seals_made_under_a_previous_key_still_verify(settings):
    store_events(1)
    previous = settings.SECRET_KEY
    settings.SECRET_KEY = "a rotated key, long enough for the settings check " * 2
    settings.SECRET_KEY_FALLBACKS = []
    assert "no longer matches its seal" in verify_chain().broken.detail
    settings.SECRET_KEY_FALLBACKS = [previous]
    assert verify_chain().ok


def test_verify_reports_an_event_whose_lookup_and_seal_were_deleted(triggers_off):
    AuditEventFactory()
    event = AuditEventFactory(activity=Activity.objects.create(name="Delete user"))
    raw("DELETE FROM logs_activity WHERE id = %s", [event.activity_id])
    raw(
        "DELETE FROM logs_lookupseal WHERE lookup = 'activity' AND row_id = %s", [event.activity_id]
    )
    broken = verify_chain().broken
    assert (broken.kind, broken.event_id) == ("missing", event.pk)
    assert f"the event shows activity {event.activity_id}, which is not stored" in broken.detail


def test_verify_finds_a_changed_details_list_by_its_seal_and_on_every_event_showing_it(
    triggers_off,
):
    an_event_with_a_target("Alex Wilber")
    an_event_with_a_target("Megan Bowen")
    shown = events_of(details_list__isnull=False)
    assert len(shown) == 2 and DetailsList.objects.count() == 1
    raw("""UPDATE logs_detailslist SET entries = '[{"key": "User-Agent", "value": "curl"}]'""")

    result = verify_chain()
    pk = DetailsList.objects.get().pk
    assert f"additional details {pk}: its entries no longer matches its seal" in (
        result.broken.detail
    )
    assert f"2 events show it (event ids {shown[0]}, {shown[1]})" in result.broken.detail
    assert result.derived == [DerivedMismatch("modified", "additional_details", shown, 2)]


@pytest.mark.parametrize(
    ("column", "name"),
    [("user_agent_id", "user agent"), ("details_list_id", "additional details list")],
)
def test_verify_reports_a_key_to_no_shared_row_and_pages_show_none(triggers_off, column, name):
    an_event_with_a_target("Alex Wilber")
    event = AuditEvent.objects.get()
    raw(f"UPDATE logs_auditevent SET {column} = 999999 WHERE id = %s", [event.pk])

    broken = verify_chain().broken
    assert broken.kind == "missing" and broken.event_id == event.pk
    assert f"the event shows {name} 999999, which is not stored" in broken.detail
    for read in (
        AuditEvent.objects.get(pk=event.pk),
        AuditEvent.objects.select_related("user_agent", "details_list").get(pk=event.pk),
    ):
        shown = read.initiator_user_agent if column == "user_agent_id" else read.additional_details
        assert shown in ("", [])
