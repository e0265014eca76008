"""Writing a digest at the end of a transaction that changed the chain."""

import json
from datetime import UTC, datetime

from django.db import connection, transaction

from auditportal_verify.digests import (
    FORMAT,
    NO_PREVIOUS,
    canonical,
    file_bytes,
    file_name,
    fingerprint,
    payload_hash,
    sign,
)
from logs.digests.keys import SigningKeyError, signing_key
from logs.digests.stores import DigestStoreError, outside_stores
from logs.hash_chain import CHECKPOINT_TABLE, chain_head, lock_chain
from logs.integrity import unpack_ranges


class DigestError(Exception):
    """No digest could be written: the transaction that changed the chain must fail."""


def seal_appended_event(sender, **kwargs):
    """Receives ``event_appended`` (logs.hash_chain): seals what ``AuditEvent.save`` appended,
    in its transaction, so that a digest error undoes the save."""
    seal_chain()


def seal_chain():
    """Sign and store a digest of what the chain gained since the previous digest.

    Call at the end of the transaction that appended events or purged them, inside it: the
    digest is stored with them, and a digest that cannot be written outside the database
    raises DigestError, which undoes the transaction. Does nothing when no signing key is
    configured, when the transaction is being rolled back, or when nothing changed. Returns
    the new ChainDigest, if any.
    """
    from logs.models import ChainDigest

    try:
        key = signing_key()
    except SigningKeyError as error:
        raise DigestError(str(error)) from None
    if key is None or (connection.in_atomic_block and transaction.get_rollback()):
        return None
    try:
        stores = outside_stores()
    except DigestStoreError as error:
        raise DigestError(str(error)) from None
    if not stores:
        raise DigestError(
            "AUDITPORTAL_SIGNING_KEY is set but neither AUDITPORTAL_DIGEST_DIR nor "
            "AUDITPORTAL_DIGEST_URL: a digest kept only in the database proves nothing against "
            "someone who can change the database."
        )
    with transaction.atomic():
        lock_chain()
        previous = ChainDigest.objects.order_by("-number").first()
        previous_end = previous.last_seq if previous else 0
        covered = previous.checkpoint_upto if previous else 0
        head_seq, head_link = chain_head()
        checkpoints = _checkpoints_after(covered)
        if head_seq == previous_end and not checkpoints:
            return None
        if head_seq < previous_end:
            raise DigestError(
                f"The chain ends at position {head_seq}, before the end of digest "
                f"#{previous.number} (position {previous_end}): events were deleted outside "
                "retention. Nothing can be added until this is explained: run verify_audit_log."
            )
        created = datetime.now(UTC)
        payload = {
            "format": FORMAT,
            "number": (previous.number if previous else 0) + 1,
            "created": created.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "first_seq": previous_end + 1,
            "last_seq": head_seq,
            "events": head_seq - previous_end,
            "last_link": head_link.hex(),
            "previous_digest": (
                payload_hash_of_text(previous.payload) if previous else NO_PREVIOUS
            ),
            "checkpoints": [
                {
                    "id": pk,
                    "run": run,
                    "link": bytes(link).hex(),
                    "ranges": [
                        [first, last, last_link.hex()]
                        for first, last, last_link in unpack_ranges(bytes(packed))
                    ],
                }
                for pk, run, packed, link in checkpoints
            ],
            "key": fingerprint(key.public_key()),
        }
        signature = sign(key, payload)
        digest = ChainDigest.objects.create(
            number=payload["number"],
            created_at=created,
            first_seq=payload["first_seq"],
            last_seq=head_seq,
            events=payload["events"],
            checkpoint_upto=checkpoints[-1][0] if checkpoints else covered,
            payload=canonical(payload).decode("ascii"),
            signature=signature,
        )
        # Last, so that little can fail between writing outside and committing.
        _write_outside(stores, file_name(digest.number), file_bytes(payload, signature))
    return digest


# Files this process wrote for digests whose transaction has not committed (yet): (location,
# name) -> bytes. A transaction that rolls back leaves its entry, which lets the next digest
# under the same number replace the file; a commit removes it. The chain lock makes the next
# digest wait until the transaction that wrote the file has ended.
_uncommitted: dict[tuple[str, str], bytes] = {}


def _write_outside(stores, name: str, data: bytes) -> None:
    written = []
    try:
        for store in stores:
            key = (store.location, name)
            store.write(name, data, stale=_uncommitted.get(key))
            _uncommitted[key] = data
            written.append(store)
    except DigestStoreError as error:
        # This digest will not be committed: take back the copies already written.
        for store in written:
            store.remove(name, data)
            _uncommitted.pop((store.location, name), None)
        raise DigestError(str(error)) from None
    keys = [(store.location, name) for store in stores]

    def committed():
        for key in keys:
            _uncommitted.pop(key, None)

    transaction.on_commit(committed)


def payload_hash_of_text(text: str) -> str:
    """The hash of a stored payload (parsed again, so a stored text that is not canonical
    hashes as what was signed)."""
    return payload_hash(json.loads(text))


def _checkpoints_after(checkpoint_id: int) -> list:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, run, ranges, link FROM {CHECKPOINT_TABLE} WHERE id > %s ORDER BY id",
            [checkpoint_id],
        )
        return cursor.fetchall()
