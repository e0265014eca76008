"""Tampering by someone who can write to the database, found by the signed digests: by
verify_audit_log and, on an export, by the offline verifier, which agree."""

import hashlib

import orjson
import pytest

from logs.models import AuditEvent, ChainDigest
from tests.digests.support import (
    finding_lines,
    other_public_key,
    raw,
    run_offline,
    run_verify,
)
from tests.retention.support import store_events
from tests.tampering import packed_original

pytestmark = pytest.mark.django_db


def three_imports():
    """Positions 1-3, 4-5 and 6-8, one digest each."""
    store_events(1, 2, 3)
    store_events(4, 5)
    store_events(6, 7, 8)


def delete_events(seqs):
    for seq in seqs:
        pk = AuditEvent.objects.get(chain_seq=seq).pk
        raw(
            "DELETE FROM logs_modifiedproperty WHERE target_id IN "
            "(SELECT id FROM logs_target WHERE event_id = %s)",
            [pk],
        )
        raw("DELETE FROM logs_target WHERE event_id = %s", [pk])
        raw("DELETE FROM logs_auditevent WHERE id = %s", [pk])


def test_an_untouched_chain_passes_both_verifiers(signing):
    three_imports()
    ok, output = run_verify()
    assert ok, output
    assert "positions 1\u20138, 0 gaps, 8 events" in output
    code, offline = run_offline(signing)
    assert code == 0, offline
    assert "OK: positions 1\u20138, 0 gaps, 8 events" in offline
    assert "newest digest" in offline and "(#3)" in offline


def test_the_newest_three_events_deleted(signing):
    three_imports()
    last_kept = AuditEvent.objects.get(chain_seq=5).pk
    delete_events([6, 7, 8])

    ok, output = run_verify()
    assert not ok
    expected = (
        f"missing: the newest events, positions 6..8 (after event id {last_kept}), which digest #3"
    )
    assert expected in output
    code, offline = run_offline(signing)
    assert code == 1
    assert expected in offline
    assert finding_lines(offline) == finding_lines(output)


def test_an_original_rewritten_and_every_later_link_recomputed(signing):
    three_imports()
    events = list(AuditEvent.objects.order_by("chain_seq"))
    target = events[3]  # position 4, in the second digest's range 4..5
    rewritten = target.original.replace('"success"', '"failure"')
    assert rewritten != target.original
    previous = bytes(events[2].chain_link)
    for event in events[3:]:
        if event.pk == target.pk:
            event.original = rewritten
        # The documented formula: SHA-256(previous link || compact JSON of seq and fields).
        link = hashlib.sha256(
            previous + orjson.dumps((event.chain_seq, *event.chain_fields()))
        ).digest()
        raw(
            "UPDATE logs_auditevent SET original = %s, chain_link = %s WHERE id = %s",
            [packed_original(event.original), link, event.pk],
        )
        previous = link

    ok, output = run_verify()
    assert not ok
    # The chain itself is consistent again: only the digests show the rewrite.
    assert "BROKEN after" not in output
    expected = (
        f"rewritten: positions 4..5 (event ids {events[3].pk}..{events[4].pk} (2 events)) no "
        "longer end in the link signed by digest #2"
    )
    assert expected in output
    assert "the 1 later digest(s) do not match either" in output
    code, offline = run_offline(signing)
    assert code == 1
    assert expected in offline
    assert finding_lines(offline) == finding_lines(output)


def test_digest_rows_deleted_in_the_database(signing):
    three_imports()
    raw("DELETE FROM logs_chaindigest WHERE number >= 2")

    ok, output = run_verify()
    assert not ok
    assert "difference: digest #2 (" in output
    assert "positions 4..5) is in " in output and "but not in the database" in output
    assert "difference: digest #3 (" in output
    # The events are intact, and the outside copies prove it: the offline verifier passes.
    code, offline = run_offline(signing)
    assert code == 0, offline
    assert finding_lines(offline) == finding_lines(output) == set()


def test_an_outside_digest_file_deleted(signing):
    three_imports()
    signing.digest_files()[1].unlink()

    ok, output = run_verify()
    assert not ok
    assert "difference: digest #2 is in the database but not in" in output
    expected = "gap: digest #2 missing before digest #3 ("
    assert expected in output
    assert "positions 4..5 were covered by digests that were deleted" in output
    code, offline = run_offline(signing)
    assert code == 1
    assert expected in offline
    assert finding_lines(offline) == finding_lines(output)


def test_the_newest_outside_digest_file_deleted(signing):
    three_imports()
    signing.digest_files()[-1].unlink()

    ok, output = run_verify()
    assert not ok
    assert "difference: digest #3 is in the database but not in" in output
    code, offline = run_offline(signing)
    assert code == 1
    # Without the file, the newest events are signed by nothing the auditor holds.
    assert "unsigned: positions 6..8" in offline
    assert finding_lines(offline) == finding_lines(output)


def test_a_wrong_public_key_is_refused(signing):
    three_imports()
    wrong = other_public_key(signing.tmp)

    ok, output = run_verify("--public-key", str(wrong))
    assert not ok
    assert "REFUSED: none of the 3 digests" in output
    code, offline = run_offline(signing, public_key=wrong)
    assert code == 1
    assert "refused: none of the 3 digests is signed by the given key(s)" in offline


def test_a_digest_file_changed_fails_its_signature(signing):
    three_imports()
    path = signing.digest_files()[1]
    path.write_text(path.read_text().replace('"events": 2', '"events": 3'))

    ok, output = run_verify()
    assert not ok
    expected = "fails its signature: it was changed after it was signed"
    assert expected in output
    assert "digest #2 in the database differs from its copy" in output
    code, offline = run_offline(signing)
    assert code == 1
    assert expected in offline
    assert finding_lines(offline) == finding_lines(output)


def test_a_deletion_passed_off_as_retention_is_caught_without_the_signing_key(signing):
    three_imports()
    from logs.hash_chain import GENESIS
    from logs.integrity import checkpoint_link, pack_ranges

    event = AuditEvent.objects.get(chain_seq=4)
    delete_events([4])
    # Whoever knows SECRET_KEY can sign a checkpoint the chain accepts...
    packed = pack_ranges([(4, 4, bytes(event.chain_link))])
    raw(
        "INSERT INTO logs_chaincheckpoint (created_at, run, events, first_seq, last_seq, "
        "last_link, ranges, link) VALUES (CURRENT_TIMESTAMP, 'forged', 1, 4, 4, %s, %s, %s)",
        [bytes(event.chain_link), packed, checkpoint_link(GENESIS, packed)],
    )
    ok, output = run_verify()
    assert not ok
    # ... but no signed digest lists it.
    assert "unsigned: retention checkpoint" in output and "(forged, positions 4..4)" in output
    assert "missing: position 4" in output
    code, offline = run_offline(signing)
    assert code == 1
    assert "missing: position 4" in offline


def test_digests_survive_in_the_database_when_nothing_is_wrong(signing):
    three_imports()
    assert list(ChainDigest.objects.values_list("number", "first_seq", "last_seq")) == [
        (1, 1, 3),
        (2, 4, 5),
        (3, 6, 8),
    ]
