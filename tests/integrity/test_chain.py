"""The hash chain: built on import and on save, verified, and tampering found or refused."""

import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from logs.hash_chain import GENESIS, chain_link
from logs.integrity import checkpoint_link, pack_ranges, verify_chain
from logs.models import AuditEvent
from tests.factories import AuditEventFactory
from tests.retention.support import store_events
from tests.tampering import packed_original, switch_off_immutability_triggers

pytestmark = pytest.mark.django_db


def verify() -> str:
    out = StringIO()
    call_command("verify_audit_log", stdout=out)
    return out.getvalue()


def raw(sql: str, parameters=()) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, parameters)


def raw_delete(event) -> None:
    """Delete an event and what hangs off it, as someone with write access to the file could."""
    raw(
        "DELETE FROM logs_modifiedproperty WHERE target_id IN "
        "(SELECT id FROM logs_target WHERE event_id = %s)",
        [event.pk],
    )
    raw("DELETE FROM logs_target WHERE event_id = %s", [event.pk])
    raw("DELETE FROM logs_annotation WHERE event_id = %s", [event.pk])
    raw("DELETE FROM logs_auditevent WHERE id = %s", [event.pk])


def test_events_are_chained_in_insertion_order():
    store_events(3, 2, 1)
    rows = list(AuditEvent.objects.order_by("id").values_list("chain_seq", "chain_link"))
    assert [seq for seq, _ in rows] == [1, 2, 3]
    first = AuditEvent.objects.get(chain_seq=1)
    assert bytes(first.chain_link) == chain_link(GENESIS, 1, first.chain_fields())


def test_events_saved_one_by_one_join_the_same_chain():
    store_events(2)
    AuditEventFactory()
    store_events(1)
    assert list(AuditEvent.objects.order_by("chain_seq").values_list("chain_seq", flat=True)) == [
        1,
        2,
        3,
    ]
    assert verify_chain().ok


def test_verify_prints_ok_and_the_number_of_events():
    store_events(3, 2, 1)
    assert verify().startswith("OK 3 events")


def test_verify_of_an_empty_database_is_ok():
    assert verify().startswith("OK 0 events")


class TestTamperingIsDetected:
    """With the triggers off, raw SQL changes what it likes; the chain shows what it did."""

    @pytest.fixture(autouse=True)
    def _triggers_off(self):
        switch_off_immutability_triggers()

    def test_a_changed_field(self):
        store_events(3, 2, 1)
        event = AuditEvent.objects.get(chain_seq=2)
        raw("UPDATE logs_auditevent SET result = 'failure' WHERE id = %s", [event.pk])
        with pytest.raises(CommandError, match=r"modified: seq 2, event id \d+"):
            verify()

    def test_a_changed_original(self):
        store_events(3, 2, 1)
        event = AuditEvent.objects.get(chain_seq=3)
        changed = event.original.replace('"success"', '"failure"')
        raw(
            "UPDATE logs_auditevent SET original = %s WHERE id = %s",
            [packed_original(changed), event.pk],
        )
        assert verify_chain().broken.kind == "modified"

    def test_a_deleted_row(self):
        store_events(3, 2, 1)
        event = AuditEvent.objects.get(chain_seq=2)
        raw_delete(event)
        with pytest.raises(CommandError, match=r"missing: seq 3.*seq 2.*deleted outside"):
            verify()

    def test_a_deleted_first_row(self):
        store_events(3, 2, 1)
        event = AuditEvent.objects.get(chain_seq=1)
        raw_delete(event)
        broken = verify_chain().broken
        assert broken.kind == "missing"

    def test_a_forged_retention_checkpoint(self):
        store_events(3, 2, 1)
        event = AuditEvent.objects.get(chain_seq=2)
        raw_delete(event)
        # Passing the deletion off as retention needs the key the checkpoints are signed with.
        packed = pack_ranges([(2, 2, bytes(event.chain_link))])
        raw(
            "INSERT INTO logs_chaincheckpoint (created_at, run, events, first_seq, last_seq, "
            "last_link, ranges, link) VALUES (CURRENT_TIMESTAMP, 'forged', 1, 2, 2, %s, %s, %s)",
            [bytes(event.chain_link), packed, checkpoint_link(GENESIS, packed, "a guessed key")],
        )
        broken = verify_chain().broken
        assert broken.kind == "modified"
        assert "checkpoint" in broken.detail


class TestInsertionIsDetected:
    """No trigger can tell a forged INSERT from an import; the chain can, on both databases."""

    def test_an_inserted_row_without_a_chain_position(self):
        store_events(3, 2)
        raw(
            "INSERT INTO logs_auditevent (entra_id, activity_datetime, service_id, category_id, "
            "activity_id, operation_type, result, result_reason, correlation_id, "
            "initiator_ip_address, user_agent_id, details_list_id, original, "
            "source_format) SELECT 'forged', activity_datetime, service_id, category_id, "
            "activity_id, operation_type, result, result_reason, correlation_id, "
            "initiator_ip_address, user_agent_id, details_list_id, original, "
            "source_format FROM logs_auditevent LIMIT 1"
        )
        with pytest.raises(CommandError, match=r"inserted: event id .*forged"):
            verify()

    def test_an_inserted_row_with_a_copied_link(self):
        store_events(3, 2)
        raw(
            "INSERT INTO logs_auditevent (entra_id, activity_datetime, service_id, category_id, "
            "activity_id, operation_type, result, result_reason, correlation_id, "
            "initiator_ip_address, user_agent_id, details_list_id, original, "
            "source_format, chain_seq, chain_link) SELECT 'forged', activity_datetime, "
            "service_id, category_id, activity_id, operation_type, result, result_reason, "
            "correlation_id, initiator_ip_address, user_agent_id, details_list_id, "
            "original, source_format, 3, chain_link FROM logs_auditevent WHERE chain_seq = 2"
        )
        broken = verify_chain().broken
        assert broken.seq == 3 and broken.entra_id == "forged"

    def test_an_inserted_row_in_place_of_a_purged_one(self, tmp_path):
        store_events(400, 2)
        call_command("apply_retention", "--no-archive", stdout=StringIO())
        raw(
            "INSERT INTO logs_auditevent (entra_id, activity_datetime, service_id, category_id, "
            "activity_id, operation_type, result, result_reason, correlation_id, "
            "initiator_ip_address, user_agent_id, details_list_id, original, "
            "source_format, chain_seq, chain_link) SELECT 'forged', activity_datetime, "
            "service_id, category_id, activity_id, operation_type, result, result_reason, "
            "correlation_id, initiator_ip_address, user_agent_id, details_list_id, "
            "original, source_format, 1, chain_link FROM logs_auditevent WHERE chain_seq = 2"
        )
        broken = verify_chain().broken
        assert broken.kind == "inserted"
        assert broken.entra_id == "forged"

    def test_a_target_inserted_for_an_event_never_stored(self):
        store_events(3, 2)
        raw(
            "INSERT INTO logs_target (event_id, position, type, object_id, display_name, "
            "user_principal_name, group_type, event_result) VALUES (987654, 0, 'User', 'x', "
            "'', '', '', '')"
        )
        with pytest.raises(CommandError, match=r"inserted: event id 987654: a target refers"):
            verify()

    def test_a_modified_property_inserted_for_a_target_never_stored(self):
        store_events(3, 2)
        raw(
            "INSERT INTO logs_modifiedproperty (target_id, position, name) "
            "VALUES (987654, 0, 'DisplayName')"
        )
        broken = verify_chain().broken
        assert broken.kind == "inserted"
        assert "modified property refers to target 987654" in broken.detail

    def test_an_annotation_inserted_for_an_event_never_stored(self):
        store_events(3, 2)
        raw(
            "INSERT INTO logs_annotation (event_id, kind, text, created_at, source) "
            "VALUES (987654, 'note', 'x', CURRENT_TIMESTAMP, 'test')"
        )
        broken = verify_chain().broken
        assert (broken.kind, broken.event_id) == ("inserted", 987654)
        assert "an annotation refers to event 987654" in broken.detail


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE logs_auditevent SET result = 'failure'",
        "UPDATE logs_auditevent SET chain_link = NULL",
        "DELETE FROM logs_auditevent",
        "DELETE FROM logs_chaincheckpoint",
        "UPDATE logs_chaincheckpoint SET run = 'x'",
    ],
)
def test_the_trigger_refuses_tampering(statement):
    store_events(400, 2)
    call_command("apply_retention", "--no-archive", stdout=StringIO())
    with pytest.raises(DatabaseError, match="immutable"):
        raw(statement)
    assert verify_chain().ok


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_imports_do_not_fork_the_chain():
    from django.db import connections

    errors = []

    def import_some(number):
        try:
            store_events(*range(1, 40))
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=import_some, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    seqs = list(AuditEvent.objects.order_by("chain_seq").values_list("chain_seq", flat=True))
    assert seqs == list(range(1, 3 * 39 + 1))
    result = verify_chain()
    assert result.ok, result.broken
