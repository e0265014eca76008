"""Checking the stored chain against the signed digests, and the two copies of each digest.

The digests read from outside the database are the evidence: someone who can change the
database cannot change them. The database's copies are compared with them, difference by
difference. The checks on the digests and the chain are auditportal_verify's, so the offline
verifier reports the same findings on an export of the same chain.
"""

from dataclasses import dataclass, field

from django.db import connection

from auditportal_verify.chain import ChainCheck
from auditportal_verify.digests import Digest as SignedDigest
from auditportal_verify.digests import (
    DigestCheck,
    DigestFormatError,
    Finding,
    check_digests,
    fingerprint,
    parse_digest,
)
from logs.digests.keys import signing_key
from logs.digests.rows import chain_positions
from logs.digests.stores import DigestStoreError, outside_stores
from logs.hash_chain import CHECKPOINT_TABLE


@dataclass
class DigestVerification:
    source: str = ""
    digests: DigestCheck | None = None
    chain: ChainCheck | None = None
    findings: list[Finding] = field(default_factory=list)
    refused: str = ""

    @property
    def ok(self) -> bool:
        return not self.findings and not self.refused

    def summary(self) -> str:
        newest = self.digests.newest if self.digests else None
        if newest is None:
            return "no digests"
        return (
            f"positions 1\u2013{self.chain.highest:,}, {self.chain.gaps} gaps, "
            f"{self.chain.events:,} events, signed by key {', '.join(sorted(self.digests.keys))}, "
            f"newest digest {newest.created} (#{newest.number})"
        )


def database_digests() -> list[SignedDigest]:
    from logs.models import ChainDigest

    return [
        _database_digest(row.number, row.payload, bytes(row.signature))
        for row in ChainDigest.objects.order_by("number")
    ]


def _database_digest(number, payload: str, signature: bytes) -> SignedDigest:
    import base64
    import json

    try:
        document = json.loads(payload)
    except (ValueError, RecursionError):
        raise DigestFormatError(f"database digest row #{number}: not JSON") from None
    if not isinstance(document, dict):
        raise DigestFormatError(f"database digest row #{number}: not a JSON object")
    document["signature"] = base64.b64encode(signature).decode("ascii")
    return parse_digest(json.dumps(document).encode(), f"database digest row #{number}")


def verify_digests(public_keys=None) -> DigestVerification:
    """All findings; ``public_keys`` default to the configured signing key's public half."""
    result = DigestVerification()
    if public_keys is None:
        key = signing_key()
        public_keys = [key.public_key()] if key else []
    try:
        stored = database_digests()
    except DigestFormatError as error:
        stored = []
        result.findings.append(Finding("changed", str(error)))
    outside = []
    try:
        for store in outside_stores():
            copies = []
            for name, data in store.read_all():
                try:
                    copies.append(parse_digest(data, name))
                except DigestFormatError as error:
                    result.findings.append(Finding("changed", str(error)))
            outside.append((store.location, copies))
    except DigestStoreError as error:
        result.refused = str(error)
        return result
    if outside:
        result.source, evidence = outside[0]
    else:
        result.source, evidence = "the database (no outside location configured)", stored
    if not evidence and not stored:
        # Tamper evidence is off (no key, no digests), or on and waiting for its first digest.
        if public_keys and _any_event():
            result.findings.append(
                Finding(
                    "unsigned",
                    "there are stored events but no signed digest at all (run seal_audit_log)",
                )
            )
        return result
    if not public_keys:
        result.refused = (
            "digests exist but there is no public key to check them with: configure "
            "AUDITPORTAL_SIGNING_KEY or pass --public-key"
        )
        return result
    for location, copies in outside:
        result.findings.extend(_differences(stored, copies, location))
    checked = check_digests(evidence, public_keys)
    result.digests = checked
    if checked.refused:
        result.refused = (
            f"none of the {len(evidence)} digests in {result.source} is signed by the given "
            f"key ({', '.join(fingerprint(key) for key in public_keys)}): wrong public key, or "
            "the digests were forged"
        )
        return result
    result.findings.extend(checked.findings)
    chain = ChainCheck(checked.valid)
    for seq, pk, link in chain_positions():
        # The links themselves are recomputed by verify_chain; here they meet the digests.
        chain.feed(seq, pk, link)
    result.chain = chain
    result.findings.extend(chain.finish())
    result.findings.extend(_unsigned_checkpoints(checked.valid))
    return result


def _differences(stored: list, copies: list, location: str) -> list[Finding]:
    findings = []
    in_database = {digest.number: digest for digest in stored}
    outside = {digest.number: digest for digest in copies}
    for number in sorted(in_database.keys() | outside.keys()):
        mine, theirs = in_database.get(number), outside.get(number)
        if theirs is None:
            findings.append(
                Finding(
                    "difference",
                    f"digest #{number} is in the database but not in {location}: the outside "
                    "copy was deleted",
                )
            )
        elif mine is None:
            findings.append(
                Finding(
                    "difference",
                    f"digest #{number} ({theirs.created}, positions {theirs.first_seq}.."
                    f"{theirs.last_seq}) is in {location} but not in the database: the "
                    "database's copy was deleted",
                )
            )
        elif (mine.payload, mine.signature) != (theirs.payload, theirs.signature):
            findings.append(
                Finding(
                    "difference",
                    f"digest #{number} in the database differs from its copy in {location}",
                )
            )
    return findings


def _unsigned_checkpoints(digests) -> list[Finding]:
    """Retention checkpoints in the database that no signed digest lists: a deletion passed
    off as retention by someone who knows SECRET_KEY but not the signing key."""
    signed = {
        checkpoint["id"]: checkpoint["link"]
        for digest in digests
        for checkpoint in digest.payload["checkpoints"]
    }
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, run, first_seq, last_seq, link FROM {CHECKPOINT_TABLE}")
        rows = cursor.fetchall()
    return [
        Finding(
            "unsigned",
            f"retention checkpoint {pk} ({run}, positions {first}..{last}) is listed by no "
            "signed digest: a deletion made to look like retention",
        )
        for pk, run, first, last, link in rows
        if signed.get(pk) != bytes(link).hex()
    ]


def _any_event() -> bool:
    from logs.models import AuditEvent

    return AuditEvent.objects.exists()
