"""Every kind of chain break, reported with its exact kind, positions and event.

The report is what an auditor reads: a break found, but named at the wrong position or as the
wrong kind, is wrong evidence too. So each test here compares the whole break.

Tampering is done as someone with write access to the database could: raw SQL, with the
immutability triggers switched off inside the test's transaction (tests.tampering), which no
trigger can prevent. Retention purges
events older than the policy (365 days): ``OLD`` events are purged, ``NEW`` ones kept.
"""

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from io import StringIO

import orjson
import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import override_settings

from logs.integrity import (
    ChainBreak,
    PurgedRanges,
    checkpoint_link,
    pack_ranges,
    purged_ranges,
    unpack_ranges,
    verify_chain,
)
from logs.models import AuditEvent, ChainCheckpoint
from logs.retention.policy import RetentionPolicy
from logs.retention.run import apply_retention
from tests.factories import AuditEventFactory
from tests.retention.support import store_events
from tests.tampering import packed_original, switch_off_immutability_triggers

pytestmark = pytest.mark.django_db

OLD, NEW = 400, 2
MODIFIED = "the stored event no longer matches its link: a field or the original record was changed"


def tamper(sql: str, parameters=()) -> None:
    with transaction.atomic():
        switch_off_immutability_triggers()
        with connection.cursor() as cursor:
            cursor.execute(sql, parameters)


def delete_outside_retention(*seqs: int) -> None:
    for seq in seqs:
        pk = at(seq).pk
        tamper(
            "DELETE FROM logs_modifiedproperty WHERE target_id IN "
            "(SELECT id FROM logs_target WHERE event_id = %s)",
            [pk],
        )
        tamper("DELETE FROM logs_target WHERE event_id = %s", [pk])
        tamper("DELETE FROM logs_annotation WHERE event_id = %s", [pk])
        tamper("DELETE FROM logs_auditevent WHERE id = %s", [pk])


def at(seq: int) -> AuditEvent:
    return AuditEvent.objects.get(chain_seq=seq)


def purge(batch_size: int = 50_000, days: int = 365) -> None:
    call_command(
        "apply_retention",
        "--no-archive",
        f"--batch-size={batch_size}",
        f"--days={days}",
        stdout=StringIO(),
    )


def broken() -> ChainBreak:
    result = verify_chain()
    assert not result.ok
    return result.broken


def missing_before(seq: int, span: str) -> ChainBreak:
    event = at(seq)
    return ChainBreak(
        "missing",
        f"the events at {span}, just before this one, were deleted outside retention",
        seq,
        event.pk,
        event.entra_id,
    )


def copy_of(seq: int, *, entra_id: str, chain_seq: int, pk: int | None = None) -> int:
    """Insert a copy of the event at ``seq`` with its link, under another activity id and chain
    position (and id, if given); returns the copy's id."""
    columns = (
        "activity_datetime, service_id, category_id, activity_id, operation_type, result, "
        "result_reason, correlation_id, initiator_ip_address, user_agent_id, "
        "details_list_id, original, source_format, chain_link"
    )
    id_column, id_value = ("id, ", f"{int(pk)}, ") if pk is not None else ("", "")
    tamper(
        f"INSERT INTO logs_auditevent ({id_column}entra_id, chain_seq, {columns}) "
        f"SELECT {id_value}%s, %s, {columns} FROM logs_auditevent WHERE chain_seq = %s",
        [entra_id, chain_seq, seq],
    )
    return AuditEvent.objects.get(entra_id=entra_id).pk


# -- events deleted outside retention ---------------------------------------------------------


@pytest.mark.parametrize(
    ("deleted", "reported_at", "span"),
    [
        ((2,), 3, "seq 2"),
        ((2, 3), 4, "seq 2..3"),
        ((1,), 2, "seq 1"),
        ((1, 2, 3), 4, "seq 1..3"),
        ((4,), 5, "seq 4"),
    ],
)
def test_a_deletion_is_reported_at_the_next_event_with_the_positions_deleted(
    deleted, reported_at, span
):
    store_events(*[NEW] * 5)
    delete_outside_retention(*deleted)
    expected = missing_before(reported_at, span)

    result = verify_chain()

    assert result.broken == expected
    assert result.events == min(deleted) - 1
    assert str(result.broken) == (
        f"missing: seq {reported_at}, event id {expected.event_id}, activity id "
        f"{expected.entra_id}: {expected.detail}"
    )


def test_a_deletion_across_the_verifications_reads_is_reported_the_same():
    store_events(*[NEW] * 5)
    delete_outside_retention(3)
    expected = missing_before(4, "seq 3")
    progress = []

    result = verify_chain(chunk_size=2, on_progress=progress.append)

    assert result.broken == expected
    assert result.events == 2
    assert progress == [2]


@pytest.mark.parametrize(
    ("ages", "deleted", "reported_at", "span"),
    [
        # Retention purged seq 1, then seq 2 was deleted: only seq 2 is named.
        ([OLD, NEW, NEW, NEW], (2,), 3, "seq 2"),
        # Retention purged seq 2; seq 3 deleted after it.
        ([NEW, OLD, NEW, NEW], (3,), 4, "seq 3"),
        # Seq 2 deleted between two positions retention purged.
        ([OLD, NEW, OLD, NEW], (2,), 4, "seq 2"),
        # Seq 2 and 4 deleted, retention purged 1, 3 and 5.
        ([OLD, NEW, OLD, NEW, OLD, NEW], (2, 4), 6, "seq 2, seq 4"),
        # Seq 2..3 deleted, then retention purged 4..5 (one batch).
        ([NEW, NEW, NEW, OLD, OLD, NEW], (2, 3), 6, "seq 2..3"),
    ],
)
def test_a_deletion_beside_retentions_purges_names_only_the_positions_deleted(
    ages, deleted, reported_at, span
):
    store_events(*ages)
    purge()
    delete_outside_retention(*deleted)

    assert broken() == missing_before(reported_at, span)


@pytest.mark.parametrize("batch_size", [1, 50_000])
def test_a_deletion_beside_purges_of_several_batches_is_found(batch_size):
    """Retention purged 1..3 (batch by batch, or in one) and 5; seq 4 was deleted."""
    store_events(OLD, OLD, OLD, NEW, OLD, NEW)
    purge(batch_size)
    delete_outside_retention(4)

    assert broken() == missing_before(6, "seq 4")


@pytest.mark.parametrize(
    ("ages", "deleted", "first"),
    [
        ([NEW, NEW, OLD], (2,), 2),
        ([NEW, NEW, NEW, OLD, OLD], (2, 3), 2),
        ([NEW, OLD, NEW, OLD], (3,), 3),
    ],
)
def test_the_newest_events_deleted_before_a_purge_are_reported(ages, deleted, first):
    """Retention purged the chain's newest position, so the chain's head is known; the events
    deleted before it are reported, after the last one stored."""
    store_events(*ages)
    purge()
    delete_outside_retention(*deleted)
    span = f"seq {first}" if len(deleted) == 1 else f"seq {first}..{max(deleted)}"

    result = verify_chain()

    assert result.broken == ChainBreak(
        "missing",
        f"the events at {span}, after the last one stored, were deleted outside retention",
        first,
    )
    assert result.events == len(ages) - len(deleted) - ages.count(OLD)
    assert str(result.broken) == f"missing: seq {first}: {result.broken.detail}"


# -- retention alone breaks nothing ---------------------------------------------------------


@pytest.mark.parametrize(
    ("ages", "batch_size"),
    [
        ([OLD, OLD, OLD, OLD, NEW], 1),
        ([OLD, OLD, OLD, OLD, NEW], 2),
        ([OLD, NEW, OLD, OLD, NEW, OLD, NEW], 1),
        ([OLD, NEW, OLD, OLD, NEW, OLD, NEW], 50_000),
        ([NEW, NEW, OLD, OLD], 1),
    ],
)
def test_purges_in_any_batches_verify_and_are_counted(ages, batch_size):
    store_events(*ages)
    head = at(len(ages))

    purge(batch_size)
    result = verify_chain(chunk_size=2)

    assert result.ok, result.broken
    assert (result.events, result.purged) == (ages.count(NEW), ages.count(OLD))
    assert (result.head_seq, result.head_link) == (len(ages), bytes(head.chain_link))


def test_a_checkpoint_records_the_batchs_runs_of_positions():
    store_events(OLD, OLD, NEW, OLD, NEW)
    links = {seq: bytes(at(seq).chain_link) for seq in (2, 4)}

    purge()

    checkpoint = ChainCheckpoint.objects.get()
    assert (checkpoint.events, checkpoint.first_seq, checkpoint.last_seq) == (3, 1, 4)
    assert bytes(checkpoint.last_link) == links[4]
    assert unpack_ranges(bytes(checkpoint.ranges)) == [(1, 2, links[2]), (4, 4, links[4])]


def test_runs_of_purged_positions_are_found_in_any_order():
    rows = [(8, b"h"), (1, b"a"), (5, b"e"), (2, b"b"), (4, b"d"), (7, b"g"), (10, b"j")]
    assert purged_ranges(rows) == [(1, 2, b"b"), (4, 5, b"e"), (7, 8, b"h"), (10, 10, b"j")]


def test_purged_positions_are_covered_and_counted_once():
    """Ranges as several checkpoints may hold them: adjacent, apart, even overlapping."""
    purged = PurgedRanges([(5, 5, b""), (1, 1, b""), (2, 2, b""), (3, 4, b""), (7, 9, b"")])
    assert purged.covers(1, 5) and purged.covers(2, 4) and purged.covers(7, 9)
    assert purged.covers(4, 4) and purged.covers(1, 1) and purged.covers(9, 9)
    assert not purged.covers(1, 6) and not purged.covers(5, 7) and not purged.covers(6, 6)
    assert not purged.covers(9, 10) and not purged.covers(0, 1)
    assert purged.total() == 8
    assert [purged.containing(seq) for seq in range(11)] == [
        None, 0, 1, 2, 2, 3, None, 4, 4, 4, None,
    ]  # fmt: skip
    overlapping = PurgedRanges([(1, 4, b""), (2, 3, b""), (3, 6, b""), (8, 8, b"")])
    assert overlapping.total() == 7
    assert overlapping.covers(1, 6) and not overlapping.covers(1, 8)


# -- events changed or inserted -------------------------------------------------------------


@pytest.mark.parametrize("seq", [1, 2, 3])
def test_a_changed_event_is_reported_at_its_position(seq):
    store_events(NEW, NEW, NEW)
    event = at(seq)
    tamper("UPDATE logs_auditevent SET result = 'failure' WHERE id = %s", [event.pk])

    result = verify_chain()

    assert result.broken == ChainBreak("modified", MODIFIED, seq, event.pk, event.entra_id)
    assert result.events == seq - 1


def test_a_changed_original_record_is_reported_by_the_command():
    store_events(NEW, NEW, NEW)
    event = at(2)
    changed = event.original.replace('"success"', '"failure"')
    assert changed != event.original
    tamper(
        "UPDATE logs_auditevent SET original = %s WHERE id = %s",
        [packed_original(changed), event.pk],
    )

    with pytest.raises(CommandError) as raised:
        call_command("verify_audit_log", stdout=StringIO())

    assert str(raised.value) == (
        f"BROKEN after 1 events: modified: seq 2, event id {event.pk}, activity id "
        f"{event.entra_id}: {MODIFIED}"
    )


def test_an_event_without_a_chain_position_is_reported_as_inserted():
    store_events(NEW, NEW)
    tamper(
        "INSERT INTO logs_auditevent (entra_id, activity_datetime, service_id, category_id, "
        "activity_id, operation_type, result, result_reason, correlation_id, "
        "initiator_ip_address, user_agent_id, details_list_id, original, "
        "source_format) SELECT 'forged', activity_datetime, service_id, category_id, "
        "activity_id, operation_type, result, result_reason, correlation_id, "
        "initiator_ip_address, user_agent_id, details_list_id, original, "
        "source_format FROM logs_auditevent WHERE chain_seq = 1"
    )
    forged = AuditEvent.objects.get(entra_id="forged")

    result = verify_chain()

    assert result.broken == ChainBreak(
        "inserted",
        "the event has no place in the chain: it was not stored by auditportal",
        None,
        forged.pk,
        "forged",
    )
    assert str(result.broken) == f"inserted: event id {forged.pk}, activity id forged: " + (
        result.broken.detail
    )


@pytest.mark.parametrize("position", [1, 2, 3])
def test_an_event_in_a_purged_position_is_reported_as_inserted(position):
    """Retention purged seq 1..3 in one run; a copy of a kept event claims one of them."""
    store_events(OLD, OLD, OLD, NEW, NEW)
    purge()
    forged = copy_of(4, entra_id="forged", chain_seq=position)

    assert broken() == ChainBreak(
        "inserted",
        "retention purged this position, yet an event holds it",
        position,
        forged,
        "forged",
    )


def test_an_event_stored_out_of_insertion_order_is_reported_as_inserted():
    store_events(NEW, NEW, NEW)
    first, last = at(1), at(3)
    forged = copy_of(3, entra_id="forged", chain_seq=4, pk=first.pk - 1)

    assert broken() == ChainBreak(
        "inserted",
        f"stored out of insertion order (its id is below event {last.pk}'s)",
        4,
        forged,
        "forged",
    )


def test_a_copied_event_at_the_next_position_does_not_match_its_link():
    store_events(NEW, NEW)
    forged = copy_of(2, entra_id="forged", chain_seq=3)

    assert broken() == ChainBreak("modified", MODIFIED, 3, forged, "forged")


@pytest.mark.parametrize(
    ("table", "columns", "detail", "event_id"),
    [
        (
            "logs_target",
            "(event_id, position, type, object_id, display_name, user_principal_name, "
            "group_type, event_result) VALUES (987654, 0, 'User', 'x', '', '', '', '')",
            "a target refers to event 987654, which is not stored",
            987654,
        ),
        (
            "logs_modifiedproperty",
            "(target_id, position, name) VALUES (987654, 0, 'DisplayName')",
            "a modified property refers to target 987654, which is not stored",
            None,
        ),
    ],
)
def test_a_row_left_without_its_parent_is_reported(table, columns, detail, event_id):
    store_events(NEW, NEW)
    tamper(f"INSERT INTO {table} {columns}")

    assert broken() == ChainBreak("inserted", detail, None, event_id)


# -- retention checkpoints ------------------------------------------------------------------


def test_a_forged_checkpoint_is_reported_by_its_id_and_run():
    store_events(NEW, NEW, NEW)
    event = at(2)
    delete_outside_retention(2)
    packed = pack_ranges([(2, 2, bytes(event.chain_link))])
    tamper(
        "INSERT INTO logs_chaincheckpoint (created_at, run, events, first_seq, last_seq, "
        "last_link, ranges, link) VALUES (CURRENT_TIMESTAMP, 'forged', 1, 2, 2, %s, %s, %s)",
        [bytes(event.chain_link), packed, checkpoint_link(bytes(32), packed, "a guessed key")],
    )
    forged = ChainCheckpoint.objects.get()

    result = verify_chain()

    detail = (
        f"retention checkpoint {forged.pk} (forged) does not match its signature: a "
        "checkpoint was changed, inserted or removed outside retention"
    )
    assert result.broken == ChainBreak("modified", detail)
    assert str(result.broken) == f"modified: chain: {detail}"


def test_a_removed_checkpoint_breaks_the_next_ones_signature():
    store_events(OLD, OLD, NEW)
    # Event by event, one checkpoint a batch: on PostgreSQL a whole month would go at once,
    # with one checkpoint.
    apply_retention(RetentionPolicy(365), batch_size=1, whole_months=False)
    first, second = ChainCheckpoint.objects.order_by("id")
    tamper("DELETE FROM logs_chaincheckpoint WHERE id = %s", [first.pk])

    assert broken() == ChainBreak(
        "modified",
        f"retention checkpoint {second.pk} ({second.run}) does not match its signature: a "
        "checkpoint was changed, inserted or removed outside retention",
    )


def test_checkpoints_signed_with_a_retired_key_verify_while_it_is_a_fallback():
    # The key the portal ran under (retention's checkpoints and the lookups' seals both) is
    # rotated into the fallbacks.
    with override_settings(SECRET_KEY="the key retention ran under"):
        store_events(OLD, NEW)
        purge()

    with override_settings(
        SECRET_KEY="the new key", SECRET_KEY_FALLBACKS=["the key retention ran under"]
    ):
        assert verify_chain().ok
    with override_settings(SECRET_KEY="the new key", SECRET_KEY_FALLBACKS=["another key"]):
        assert broken().kind == "modified"


# -- the chain record, as the module documents it -------------------------------------------


def test_a_link_can_be_recomputed_from_the_documented_record():
    """Anyone can check a link from the stored columns: SHA-256 of the previous link (32 zero
    bytes before the first) and the compact JSON array of the position and the columns, the
    date in UTC with six fractional digits, whatever offset it was given with."""
    plus_two = timezone(timedelta(hours=2))
    AuditEventFactory(activity_datetime=datetime(2024, 5, 1, 1, 2, 3, 45, tzinfo=plus_two))
    AuditEventFactory(activity_datetime=datetime(2024, 5, 1, 23, 0, 0, tzinfo=UTC))

    previous = bytes(32)
    dates = []
    for event in AuditEvent.objects.order_by("chain_seq"):
        date = event.activity_datetime.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        dates.append(date)
        record = [
            event.chain_seq,
            event.entra_id,
            date,
            event.service_id,
            event.category_id,
            event.activity_id,
            event.operation_type,
            event.result,
            event.result_reason,
            event.correlation_id,
            event.initiator_id,
            event.initiator_ip_address,
            event.initiator_user_agent,
            event.source_format,
            event.original,
        ]
        link = hashlib.sha256(previous + orjson.dumps(record)).digest()
        assert bytes(event.chain_link) == link
        previous = link

    assert dates == ["2024-04-30 23:02:03.000045", "2024-05-01 23:00:00.000000"]
    assert verify_chain().ok


@pytest.mark.parametrize("purged_before", [False, True])
def test_a_purge_that_ends_while_the_chain_is_walked_is_not_a_break(purged_before):
    """Verification reads the checkpoints first; retention may purge what it has not walked
    yet, and the gap it then meets is read again from the checkpoints, not reported. Seq 3 is
    purged before the walk or during it, seq 4 (younger) during it."""
    store_events(NEW, NEW, 400, 350, NEW)
    if purged_before:
        purge(days=365)
    purged_during = []

    def purge_once(events: int) -> None:
        if not purged_during:
            purge(days=300)
            purged_during.append(events)

    result = verify_chain(chunk_size=2, on_progress=purge_once)

    assert result.ok, result.broken
    assert purged_during == [2]
    assert (result.events, result.purged, result.head_seq) == (3, 2, 5)
