"""``train_compression_dictionary``: a dictionary trained on the database's own originals is
stored only if it packs them smaller, and new originals are then packed with it."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from logs.integrity import verify_chain
from logs.models import AuditEvent, CompressionDictionary
from logs.originals.codec import encode_id
from tests.factories import AuditEventFactory

pytestmark = pytest.mark.django_db


def stored_value(event) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute("SELECT original FROM logs_auditevent WHERE id = %s", [event.pk])
        return bytes(cursor.fetchone()[0])


def train(*arguments) -> str:
    out = StringIO()
    call_command("train_compression_dictionary", *arguments, stdout=out)
    return out.getvalue()


def test_a_dictionary_trained_on_the_stored_originals_packs_new_ones():
    old = AuditEventFactory.create_batch(200)
    output = train("--records", "150")
    assert output.startswith("150 originals")
    newest = CompressionDictionary.objects.order_by("-id").first()
    assert f"Stored as dictionary {newest.pk}" in output
    assert newest.origin == "trained on the newest 150 stored originals"
    new = AuditEventFactory()
    assert stored_value(new)[1:2] == encode_id(newest.pk)
    assert len(stored_value(new)) < len(stored_value(old[-1]))
    assert AuditEvent.objects.get(pk=old[0].pk).original == old[0].original
    assert AuditEvent.objects.get(pk=new.pk).original == new.original
    assert verify_chain().ok


def test_a_dictionary_that_packs_no_smaller_is_not_stored():
    AuditEventFactory.create_batch(100)
    train("--records", "100")
    count = CompressionDictionary.objects.count()
    output = train("--records", "100")
    assert "Not stored: it packs them no smaller." in output
    assert CompressionDictionary.objects.count() == count


def test_too_few_originals_are_refused():
    AuditEventFactory.create_batch(3)
    with pytest.raises(CommandError, match="3 records are too few"):
        train()
    with pytest.raises(CommandError, match="at least 16"):
        train("--records", "5")
