"""Rotating the signing key as the docs describe: a new key file, the setting pointed at it.
The sequence of digests runs on unbroken across the change, each digest names the key that
signed it, and both verifiers accept the whole sequence given both public keys, and only
then."""

import pytest

from auditportal_verify.__main__ import verify as verify_offline
from auditportal_verify.digests import (
    check_digests,
    fingerprint,
    load_public_key,
    parse_digest,
    payload_hash,
)
from logs.digests.keys import create_key_files
from tests.digests.support import export_chain, run_verify
from tests.retention.support import store_events

pytestmark = pytest.mark.django_db


def test_a_rotated_key_carries_the_sequence_on_and_both_keys_verify_it(signing, settings):
    store_events(1, 2)
    new_key = signing.tmp / "signing-2027.pem"
    new_public, new_fingerprint = create_key_files(new_key)
    settings.AUDITPORTAL_SIGNING_KEY = str(new_key)
    store_events(3)

    digests = [parse_digest(path.read_bytes(), str(path)) for path in signing.digest_files()]
    old = load_public_key(signing.public_key)
    new = load_public_key(new_public)
    assert [digest.key for digest in digests] == [fingerprint(old), new_fingerprint]
    assert digests[1].payload["previous_digest"] == payload_hash(digests[0].payload)
    assert check_digests(digests, [old, new]).findings == []
    assert check_digests(digests, [new]).findings != []

    both = ["--public-key", str(signing.public_key), "--public-key", str(new_public)]
    ok, output = run_verify(*both)
    assert ok, output
    ok, output = run_verify("--public-key", str(new_public))
    assert not ok, output
    # Set aside for its key, the first digest is not reported as deleted.
    assert "positions 1..2 are covered only by digests whose signature is not accepted" in output
    assert "deleted" not in output, output

    export = export_chain(signing.tmp / "chain.ndjson")
    assert verify_offline(export, signing.digest_dir, [signing.public_key, new_public]) == 0
    assert verify_offline(export, signing.digest_dir, [new_public]) == 1
