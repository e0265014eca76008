"""Stored audit records cannot be changed or deleted, except through the retention window."""

import sqlite3

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from logs.immutability import ImmutableRecordError, retention_purge
from logs.models import Annotation, AuditEvent, ModifiedProperty, Target
from tests.factories import AuditEventFactory, ModifiedPropertyFactory, TargetFactory

pytestmark = pytest.mark.django_db


def test_saving_a_changed_event_raises():
    event = AuditEventFactory()
    event.result_reason = "rewritten"
    with pytest.raises(ImmutableRecordError, match="immutable"):
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).result_reason == ""


def test_queryset_update_of_events_raises():
    AuditEventFactory()
    with pytest.raises(ImmutableRecordError, match=r"update\(\)"):
        AuditEvent.objects.update(result_reason="rewritten")


def test_bulk_update_of_events_raises():
    event = AuditEventFactory()
    event.result_reason = "rewritten"
    with pytest.raises(ImmutableRecordError):
        AuditEvent.objects.bulk_update([event], ["result_reason"])


def test_deleting_an_event_raises():
    event = AuditEventFactory()
    with pytest.raises(ImmutableRecordError, match=r"delete\(\)"):
        event.delete()
    with pytest.raises(ImmutableRecordError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_targets_and_modified_properties_are_immutable_too():
    prop = ModifiedPropertyFactory()
    with pytest.raises(ImmutableRecordError):
        Target.objects.update(display_name="x")
    with pytest.raises(ImmutableRecordError):
        ModifiedProperty.objects.filter(pk=prop.pk).delete()
    prop.new_value = "x"
    with pytest.raises(ImmutableRecordError):
        prop.save()


def test_annotations_are_append_only():
    annotation = Annotation.objects.create(
        event=AuditEventFactory(), kind=Annotation.Kind.NOTE, text="checked", source="test"
    )
    annotation.text = "changed"
    with pytest.raises(ImmutableRecordError):
        annotation.save()


def test_retention_window_allows_delete_with_cascade():
    target = TargetFactory()
    ModifiedPropertyFactory(target=target)
    event = target.event
    with retention_purge():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert not AuditEvent.objects.filter(pk=event.pk).exists()
    assert not Target.objects.filter(pk=target.pk).exists()
    assert ModifiedProperty.objects.count() == 0


def test_retention_window_closes_after_use():
    event = AuditEventFactory()
    with retention_purge():
        pass
    with pytest.raises(ImmutableRecordError):
        event.delete()


def test_retention_window_still_refuses_updates():
    AuditEventFactory()
    with retention_purge(), pytest.raises(ImmutableRecordError):
        AuditEvent.objects.update(result_reason="rewritten")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE logs_auditevent SET result_reason = 'rewritten'",
        "DELETE FROM logs_auditevent",
        "UPDATE logs_target SET display_name = 'x'",
        "DELETE FROM logs_target",
        "UPDATE logs_modifiedproperty SET new_value = 'x'",
        "DELETE FROM logs_modifiedproperty",
    ],
)
def test_the_trigger_rejects_raw_sql_rewrites(statement):
    """On both databases: SQLite's triggers (logs.sqlite_triggers) as PostgreSQL's."""
    ModifiedPropertyFactory()
    rejected = pytest.raises(DatabaseError, match="immutable")
    with rejected, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert AuditEvent.objects.count() == 1
    assert ModifiedProperty.objects.count() == 1


def test_raw_delete_of_an_event_is_refused():
    """``QuerySet._raw_delete()`` skips the ORM's refusals; the database refuses instead."""
    event = AuditEventFactory()
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk)._raw_delete(connection.alias)
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_trigger_allows_raw_delete_inside_retention_window_only():
    event = AuditEventFactory()
    with retention_purge(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM logs_auditevent WHERE id = %s", [event.pk])
    assert not AuditEvent.objects.exists()
    AuditEventFactory()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM logs_auditevent")
    assert AuditEvent.objects.count() == 1


def test_the_trigger_rejects_update_even_inside_retention_window():
    AuditEventFactory()
    with pytest.raises(DatabaseError), retention_purge(), connection.cursor() as cursor:
        cursor.execute("UPDATE logs_auditevent SET result_reason = 'x'")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's triggers")
@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("DELETE FROM logs_auditevent", "no such function"),
        ("DELETE FROM logs_target", "no such function"),
        ("DELETE FROM logs_activity", "no such function"),
        ("UPDATE logs_auditevent SET result_reason = 'x'", "immutable: UPDATE on logs_auditevent"),
        ("UPDATE logs_activity SET name = 'x'", "immutable: UPDATE on logs_activity"),
    ],
)
def test_sqlite_refuses_a_connection_opened_around_auditportal(statement, refusal):
    """A plain ``sqlite3`` connection (here on a copy of the test database, schema and
    triggers included) lacks the delete triggers' function: a DELETE fails for it; an UPDATE
    is refused outright."""
    TargetFactory()
    plain = sqlite3.connect(":memory:")
    plain.deserialize(connection.connection.serialize())
    with pytest.raises(sqlite3.DatabaseError, match=refusal):
        plain.execute(statement)
    assert plain.execute("SELECT count(*) FROM logs_auditevent").fetchone()[0] == 1
    assert plain.execute("SELECT count(*) FROM logs_target").fetchone()[0] == 1


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_database_and_nothing_else_deletes():
    """Django's flush (run between transactional tests) empties every table, triggers or not;
    outside it the triggers still refuse."""
    TargetFactory()
    with pytest.raises(DatabaseError), connection.cursor() as cursor:
        cursor.execute("DELETE FROM logs_target")
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists()
    assert not Target.objects.exists()
    TargetFactory()
    with pytest.raises(DatabaseError), connection.cursor() as cursor:
        cursor.execute("DELETE FROM logs_target")
