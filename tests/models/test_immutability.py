"""Stored audit records cannot be changed or deleted, except through the retention window."""

import pytest
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


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE logs_auditevent SET result_reason = 'rewritten'",
        "DELETE FROM logs_auditevent",
        "UPDATE logs_target SET display_name = 'x'",
        "DELETE FROM logs_modifiedproperty",
    ],
)
def test_postgres_trigger_rejects_raw_sql_rewrites(statement):
    ModifiedPropertyFactory()
    rejected = pytest.raises(DatabaseError, match="immutable")
    with rejected, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert AuditEvent.objects.count() == 1
    assert ModifiedProperty.objects.count() == 1


@pytest.mark.postgres_only
def test_postgres_trigger_allows_raw_delete_inside_retention_window_only():
    event = AuditEventFactory()
    with retention_purge(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM logs_auditevent WHERE id = %s", [event.pk])
    assert not AuditEvent.objects.exists()
    AuditEventFactory()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM logs_auditevent")


@pytest.mark.postgres_only
def test_postgres_trigger_rejects_update_even_inside_retention_window():
    AuditEventFactory()
    with pytest.raises(DatabaseError), retention_purge(), connection.cursor() as cursor:
        cursor.execute("UPDATE logs_auditevent SET result_reason = 'x'")
