"""``AuditEvent.original`` stored packed and read back as the same text on both databases:
through the ORM, raw SQL and verification; a newer dictionary leaves older values readable;
the dictionaries are immutable; the database cannot filter on the text, and says so."""

import hashlib
import json
import uuid
from io import StringIO

import pytest
import zstandard
from django.core import serializers
from django.core.exceptions import FieldError
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logs.immutability import ImmutableRecordError
from logs.integrity import verify_chain
from logs.models import AuditEvent, CompressionDictionary
from logs.originals import dictionaries
from logs.originals.codec import RAW, ZSTD, UnreadableOriginal, encode_id
from logs.originals.dictionaries import (
    SHIPPED_ORIGIN,
    detached_text_reader,
    original_text,
    shipped_data,
    store_dictionary,
    writing_dictionary,
)
from logs.originals.field import PackedTextField
from logs.originals.training import train
from tests.factories import AuditEventFactory
from tests.support import SIX_EVENTS_FILE
from tests.tampering import packed_original, tamper

pytestmark = pytest.mark.django_db


def stored_value(event) -> bytes | str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT original FROM logs_auditevent WHERE id = %s", [event.pk])
        value = cursor.fetchone()[0]
    return value if isinstance(value, str) else bytes(value)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text() | st.text(min_size=3_000, max_size=30_000))
def test_any_text_round_trips_through_the_field(text):
    event = AuditEventFactory(entra_id=str(uuid.uuid4()), original=text)
    assert AuditEvent.objects.get(pk=event.pk).original == text
    assert AuditEvent.objects.filter(pk=event.pk).values_list("original", flat=True).get() == text
    assert original_text(stored_value(event), connection) == text


def test_a_record_is_stored_in_its_packed_form():
    event = AuditEventFactory()
    value = stored_value(event)
    dictionary = CompressionDictionary.objects.order_by("-id").first()
    assert isinstance(value, bytes)
    assert value.startswith(bytes([ZSTD]) + encode_id(dictionary.pk))
    assert len(value) < len(event.original.encode())
    assert original_text(value, connection) == event.original


def test_the_migration_stored_the_shipped_dictionary():
    dictionary = CompressionDictionary.objects.get()
    assert bytes(dictionary.data) == shipped_data()
    assert dictionary.sha256 == hashlib.sha256(shipped_data()).hexdigest()
    assert dictionary.origin == SHIPPED_ORIGIN


def test_imported_originals_are_packed_and_read_back_as_the_file_gave_them(fixtures_dir):
    call_command("import_audit_logs", str(SIX_EVENTS_FILE), stdout=StringIO())
    events = list(AuditEvent.objects.order_by("pk"))
    assert len(events) == 6
    for event in events:
        value = stored_value(event)
        assert value[0] in (RAW, ZSTD)
        assert original_text(value, connection) == event.original
    assert sum(len(stored_value(e)) for e in events) < sum(len(e.original) for e in events) / 2
    assert verify_chain().ok


def test_a_newer_dictionary_writes_new_originals_and_old_ones_still_read():
    old = AuditEventFactory()
    samples = [AuditEventFactory.build(entra_id=f"sample {n}").original.encode() for n in range(64)]
    newer = store_dictionary(connection, train(samples), origin="trained in a test")
    new = AuditEventFactory()
    assert stored_value(new)[1:2] == encode_id(newer)
    assert stored_value(old)[1:2] != encode_id(newer)
    dictionaries.forget()  # as another process would: nothing cached
    assert AuditEvent.objects.get(pk=old.pk).original == old.original
    assert AuditEvent.objects.get(pk=new.pk).original == new.original
    assert verify_chain().ok


def test_a_detached_reader_reads_every_stored_dictionary_once_and_never_queries_again(
    django_assert_num_queries,
):
    """The retention archive unpacks originals on its writer thread, whose connection may be
    another database: the reader made after the values were read needs none."""
    old = AuditEventFactory()
    samples = [AuditEventFactory.build(entra_id=f"sample {n}").original.encode() for n in range(64)]
    store_dictionary(connection, train(samples), origin="trained in a test")
    new = AuditEventFactory()
    old_value, new_value = stored_value(old), stored_value(new)
    assert old_value[1:2] != new_value[1:2]  # packed with two dictionaries
    dictionaries.forget()  # as another process would: nothing cached
    text_of = detached_text_reader(connection)
    with django_assert_num_queries(0):
        assert text_of(old_value) == old.original
        assert text_of(new_value) == new.original
        with pytest.raises(UnreadableOriginal, match="dictionary 99 is not stored"):
            text_of(new_value[:1] + encode_id(99) + new_value[2:])


def test_bytes_that_are_no_dictionary_are_not_stored():
    before = CompressionDictionary.objects.count()
    with pytest.raises(zstandard.ZstdError):
        store_dictionary(connection, b"not a dictionary", origin="test")
    assert CompressionDictionary.objects.count() == before


def test_an_empty_dictionary_table_gets_the_shipped_dictionary_in_the_writing_transaction():
    with transaction.atomic():
        tamper("DELETE FROM logs_compressiondictionary")
        dictionaries.forget()
        event = AuditEventFactory()
        stored = CompressionDictionary.objects.get()
        assert bytes(stored.data) == shipped_data()
        assert stored_value(event)[1:2] == encode_id(stored.pk)
        assert AuditEvent.objects.get(pk=event.pk).original == event.original
        transaction.set_rollback(True)
    dictionaries.forget()


def test_dictionaries_are_immutable():
    dictionary = CompressionDictionary.objects.get()
    with pytest.raises(ImmutableRecordError):
        dictionary.save()
    with pytest.raises(ImmutableRecordError):
        dictionary.delete()
    for sql in (
        "UPDATE logs_compressiondictionary SET origin = 'x'",
        "DELETE FROM logs_compressiondictionary",
    ):
        with (
            pytest.raises(DatabaseError, match="immutable"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)


def test_a_changed_dictionary_is_refused_by_its_checksum():
    event = AuditEventFactory()
    tamper("UPDATE logs_compressiondictionary SET origin = 'changed', sha256 = %s", ["0" * 64])
    dictionaries.forget()
    with pytest.raises(UnreadableOriginal, match="no longer matches its SHA-256"):
        AuditEvent.objects.get(pk=event.pk)
    dictionaries.forget()


def test_a_database_filter_on_the_text_is_refused():
    AuditEventFactory()
    for lookup in ("contains", "icontains", "exact", "startswith", "in"):
        value = ["x"] if lookup == "in" else "x"
        with pytest.raises(FieldError, match=f"the lookup '{lookup}' is not supported"):
            list(AuditEvent.objects.filter(**{f"original__{lookup}": value}))
    assert AuditEvent.objects.filter(original__isnull=False).count() == 1


def test_a_value_that_is_not_text_is_refused_on_write():
    field = AuditEvent._meta.get_field("original")
    with pytest.raises(TypeError, match="original holds text, not bytes"):
        field.get_db_prep_value(b"bytes", connection)
    assert field.get_db_prep_value(None, connection) is None


@pytest.mark.parametrize(
    "written",
    [
        pytest.param(b"\x07garbage", id="unknown tag"),
        pytest.param(b"", id="empty"),
        pytest.param("cut", id="a cut frame"),
    ],
)
def test_verification_reports_an_unreadable_original_as_modified(written):
    AuditEventFactory()
    event = AuditEventFactory()
    value = packed_original(event.original)[:-3] if written == "cut" else written
    tamper("UPDATE logs_auditevent SET original = %s WHERE id = %s", [value, event.pk])
    result = verify_chain()
    assert result.broken.kind == "modified"
    assert result.broken.event_id == event.pk
    assert "the stored original record cannot be read back" in result.broken.detail
    with pytest.raises(CommandError, match="cannot be read back"):
        call_command("verify_audit_log", stdout=StringIO())


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL's bytea takes no text")
def test_verification_reports_text_written_in_place_of_a_packed_original():
    event = AuditEventFactory()
    tamper("UPDATE logs_auditevent SET original = %s WHERE id = %s", [event.original, event.pk])
    assert "is text, not a packed original" in verify_chain().broken.detail


def test_the_dictionary_written_with_is_the_newest_stored():
    first = writing_dictionary(connection)
    samples = [f'{{"id":"{n}","activityDisplayName":"Add user {n}"}}'.encode() for n in range(64)]
    newer = store_dictionary(connection, train(samples), origin="test")
    assert first.pk < newer
    assert writing_dictionary(connection).pk == newer


def test_serialised_as_the_text_and_loaded_back_as_it():
    event = AuditEventFactory(original='{"id":"x","displayName":"Zoë 東京"}')
    data = serializers.serialize("json", AuditEvent.objects.filter(pk=event.pk))
    (loaded,) = serializers.deserialize("json", data)
    assert json.loads(data)[0]["fields"]["original"] == event.original
    assert loaded.object.original == event.original


def test_a_new_event_without_an_original_holds_empty_text():
    assert AuditEvent().original == ""


def test_a_value_naming_a_dictionary_not_stored_is_refused():
    value = bytes([ZSTD]) + encode_id(999) + b"\x28\xb5\x2f\xfd"
    with pytest.raises(UnreadableOriginal, match="compression dictionary 999 is not stored"):
        original_text(value, connection)


def test_dictionaries_are_read_once_and_kept(django_assert_num_queries):
    dictionaries.forget()
    first = writing_dictionary(connection)
    with django_assert_num_queries(1):  # which one is newest: asked at every write
        assert writing_dictionary(connection) is first
    with django_assert_num_queries(0):
        assert dictionaries.reader(connection)(first.pk) is first
    with pytest.raises(UnreadableOriginal):
        dictionaries.reader(connection)(first.pk + 1)  # reads every stored dictionary again
    assert writing_dictionary(connection) is first


def test_defaults_of_the_field():
    assert PackedTextField(default="x").get_default() == "x"
    assert PackedTextField(null=True).get_default() is None
    assert PackedTextField().get_default() == ""
    assert PackedTextField().to_python("text") == "text"
