"""DigestField through the ORM: an event's content hash and match key are hexadecimal text in
Python and their 32 bytes in the database, on both databases, whichever way they are written
or read (a model instance, a filter, Django's serialisers)."""

import hashlib

import pytest
from django.core import serializers
from django.db import connection

from logs.models import AuditEvent
from tests.factories import AuditEventFactory
from tests.tampering import tamper

pytestmark = pytest.mark.django_db

CONTENT = hashlib.sha256(b"content").hexdigest()
KEY = hashlib.sha256(b"key").hexdigest()


def stored(event: AuditEvent) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT content_hash, match_key FROM logs_auditevent WHERE id = %s", [event.pk]
        )
        return tuple(
            value if isinstance(value, str) else bytes(value) for value in cursor.fetchone()
        )


def test_a_digest_written_by_the_orm_is_stored_as_its_bytes_and_read_as_its_text():
    event = AuditEventFactory(content_hash=CONTENT, match_key=KEY)
    assert stored(event) == (bytes.fromhex(CONTENT), bytes.fromhex(KEY))
    again = AuditEvent.objects.get(pk=event.pk)
    assert (again.content_hash, again.match_key) == (CONTENT, KEY)
    assert list(AuditEvent.objects.filter(content_hash=CONTENT).values_list("pk", flat=True)) == [
        event.pk
    ]
    assert not AuditEvent.objects.filter(match_key=CONTENT).exists()


def test_an_event_without_digests_stores_empty_bytes_and_reads_empty_text():
    assert AuditEvent().content_hash == ""
    event = AuditEventFactory()
    assert stored(event) == (b"", b"")
    assert AuditEvent.objects.values_list("content_hash", "match_key").get(pk=event.pk) == ("", "")


def test_a_digest_given_as_bytes_or_in_another_form_is_refused():
    with pytest.raises(TypeError, match="hexadecimal text"):
        AuditEventFactory(content_hash=bytes.fromhex(CONTENT))
    with pytest.raises(ValueError, match="not a SHA-256 digest"):
        AuditEventFactory(match_key=KEY.upper())


def test_serialised_events_carry_the_text_and_read_back_the_same():
    event = AuditEventFactory(content_hash=CONTENT, match_key=KEY)
    text = serializers.serialize("json", AuditEvent.objects.filter(pk=event.pk))
    assert CONTENT in text and KEY in text
    [restored] = serializers.deserialize("json", text)
    assert (restored.object.content_hash, restored.object.match_key) == (CONTENT, KEY)


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="only SQLite lets a text value into the column"
)
def test_text_written_around_auditportal_reads_as_that_text_not_as_a_digest():
    event = AuditEventFactory(content_hash=CONTENT)
    tamper("UPDATE logs_auditevent SET content_hash = %s WHERE id = %s", [CONTENT, event.pk])
    assert stored(event)[0] == CONTENT
    # Returned as it is, never converted into some other digest.
    assert AuditEvent.objects.get(pk=event.pk).content_hash == CONTENT
