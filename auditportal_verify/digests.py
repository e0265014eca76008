"""Digest files: their canonical form, signatures, and the order they must form.

A digest is a JSON object signed with Ed25519. What is signed is the object without its
``signature`` member, serialised canonically: keys sorted, no spaces, ASCII only
(``canonical``). Each digest holds the hash of the previous one's canonical form, so the
digests form a chain of their own, numbered 1, 2, 3, ... with no gaps.
"""

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

FORMAT = "auditportal-digest/1"
NO_PREVIOUS = "0" * 64
FILE_PREFIX = "digest-"
FILE_SUFFIX = ".json"
REQUIRED = {
    "format": str,
    "number": int,
    "created": str,
    "first_seq": int,
    "last_seq": int,
    "events": int,
    "last_link": str,
    "previous_digest": str,
    "checkpoints": list,
    "key": str,
}


class DigestFormatError(ValueError):
    """A digest file that is not a digest: names the file and the field."""


def canonical(payload: dict) -> bytes:
    """The bytes a digest's signature covers."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode(
        "ascii"
    )


def payload_hash(payload: dict) -> str:
    """What the next digest's ``previous_digest`` holds."""
    return hashlib.sha256(canonical(payload)).hexdigest()


def file_name(number: int) -> str:
    """Zero-padded, so that a plain listing of the folder or container is in digest order."""
    return f"{FILE_PREFIX}{number:012d}{FILE_SUFFIX}"


def file_bytes(payload: dict, signature: bytes) -> bytes:
    document = dict(payload, signature=base64.b64encode(signature).decode("ascii"))
    return (json.dumps(document, sort_keys=True, indent=2, ensure_ascii=True) + "\n").encode(
        "ascii"
    )


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key, in hex: what digests name their key by."""
    return "SHA256:" + hashlib.sha256(raw_public_key(key)).hexdigest()


MAX_KEY_FILE_BYTES = 64 * 1024


def load_public_key(path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file (a private key file gives its public half)."""
    with open(path, "rb") as stream:
        # A PEM Ed25519 key is a few hundred bytes: read no more than a key could be, so that
        # a path such as /dev/zero is refused rather than read until memory runs out.
        data = stream.read(MAX_KEY_FILE_BYTES + 1)
    if len(data) > MAX_KEY_FILE_BYTES:
        raise ValueError(f"{path}: not a PEM Ed25519 key (over {MAX_KEY_FILE_BYTES:,} bytes)")
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        try:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        except (ValueError, TypeError) as error:
            raise ValueError(f"{path}: not a PEM Ed25519 public key ({error})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path}: not an Ed25519 key ({type(key).__name__})")
    return key


def sign(key: Ed25519PrivateKey, payload: dict) -> bytes:
    return key.sign(canonical(payload))


@dataclass
class Digest:
    payload: dict
    signature: bytes
    source: str  # the file (or database row) it was read from

    @property
    def number(self) -> int:
        return self.payload["number"]

    @property
    def first_seq(self) -> int:
        return self.payload["first_seq"]

    @property
    def last_seq(self) -> int:
        return self.payload["last_seq"]

    @property
    def last_link(self) -> bytes:
        return bytes.fromhex(self.payload["last_link"])

    @property
    def created(self) -> str:
        return self.payload["created"]

    @property
    def key(self) -> str:
        return self.payload["key"]

    def ranges(self) -> list[tuple[int, int, bytes]]:
        """The purged ranges of the retention checkpoints this digest lists."""
        return [
            (first, last, bytes.fromhex(link))
            for checkpoint in self.payload["checkpoints"]
            for first, last, link in checkpoint["ranges"]
        ]

    def label(self) -> str:
        return f"digest #{self.number} ({self.created})"


def parse_digest(data: bytes, source: str) -> Digest:
    """A digest file's contents; DigestFormatError names the file and the field."""
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DigestFormatError(f"{source}: not JSON: {error}") from None
    except RecursionError:
        # Whoever can write the digest folder may nest a file as deep as they like.
        raise DigestFormatError(f"{source}: not a digest: nested too deep to read") from None
    if not isinstance(document, dict):
        raise DigestFormatError(f"{source}: not a JSON object")
    signature_text = document.pop("signature", None)
    if not isinstance(signature_text, str):
        raise DigestFormatError(f"{source}: field 'signature': missing or not a string")
    try:
        signature = base64.b64decode(signature_text, validate=True)
    except ValueError:
        raise DigestFormatError(f"{source}: field 'signature': not base64") from None
    for name, kind in REQUIRED.items():
        value = document.get(name)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise DigestFormatError(f"{source}: field {name!r}: missing or not {kind.__name__}")
    if document["format"] != FORMAT:
        raise DigestFormatError(f"{source}: field 'format': {document['format']!r}, not {FORMAT}")
    for name in ("last_link", "previous_digest"):
        try:
            if len(bytes.fromhex(document[name])) != 32:
                raise ValueError
        except ValueError:
            raise DigestFormatError(f"{source}: field {name!r}: not 64 hex digits") from None
    try:
        for checkpoint in document["checkpoints"]:
            for first, last, link in checkpoint["ranges"]:
                if not (isinstance(first, int) and isinstance(last, int)) or first > last:
                    raise ValueError
                bytes.fromhex(link)
    except (TypeError, ValueError, KeyError):
        raise DigestFormatError(f"{source}: field 'checkpoints': malformed ranges") from None
    return Digest(document, signature, source)


def read_directory(directory) -> list[Digest]:
    """Every digest file in ``directory``, in name order (which is digest order)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory}: no such folder")
    return [
        parse_digest(path.read_bytes(), str(path))
        for path in sorted(directory.glob(f"{FILE_PREFIX}*{FILE_SUFFIX}"))
    ]


@dataclass
class Finding:
    """One thing the evidence does not bear out, with the positions and events concerned."""

    kind: str
    message: str

    def __str__(self):
        return f"{self.kind}: {self.message}"


@dataclass
class DigestCheck:
    """The digests whose signatures and order hold, and what does not hold."""

    valid: list[Digest] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)
    refused: bool = False

    @property
    def newest(self) -> Digest | None:
        return self.valid[-1] if self.valid else None


def check_digests(digests: list[Digest], public_keys: list[Ed25519PublicKey]) -> DigestCheck:
    """Signatures first (a digest that fails it is ignored thereafter), then the order: numbers
    from 1 without gaps, each naming its predecessor's hash and continuing its positions."""
    trusted = {fingerprint(key): key for key in public_keys}
    result = DigestCheck()
    # Numbers of digests present but set aside for their signature (reported already): a gap
    # they leave is not a deletion.
    unverified = set()
    for digest in sorted(digests, key=lambda d: d.number):
        key = trusted.get(digest.key)
        if key is None:
            unverified.add(digest.number)
            result.findings.append(
                Finding(
                    "signature",
                    f"{digest.label()} in {digest.source} is signed by key {digest.key}, "
                    "which is not a key given to check it",
                )
            )
            continue
        try:
            key.verify(digest.signature, canonical(digest.payload))
        except InvalidSignature:
            unverified.add(digest.number)
            result.findings.append(
                Finding(
                    "signature",
                    f"{digest.label()} in {digest.source} fails its signature: it was changed "
                    "after it was signed",
                )
            )
            continue
        result.keys.add(digest.key)
        result.valid.append(digest)
    if digests and not result.valid:
        result.refused = True
        return result
    previous = None
    for digest in result.valid:
        expected = previous.number + 1 if previous else 1
        if digest.number < expected:
            result.findings.append(
                Finding("order", f"two digests are numbered {digest.number}: {digest.source}")
            )
            continue
        if digest.number > expected:
            span = (
                f"#{expected}"
                if digest.number == expected + 1
                else f"#{expected}..#{digest.number - 1}"
            )
            absent = set(range(expected, digest.number))
            if absent <= unverified:
                why = "are covered only by digests whose signature is not accepted (above)"
            elif absent & unverified:
                why = "were covered by digests deleted or whose signature is not accepted"
            else:
                why = "were covered by digests that were deleted"
            result.findings.append(
                Finding(
                    "gap",
                    f"digest {span} missing before {digest.label()}: positions "
                    f"{previous.last_seq + 1 if previous else 1}..{digest.first_seq - 1} {why}",
                )
            )
        else:
            previous_hash = payload_hash(previous.payload) if previous else NO_PREVIOUS
            if digest.payload["previous_digest"] != previous_hash:
                result.findings.append(
                    Finding(
                        "order",
                        f"{digest.label()} does not follow digest #{expected - 1}: the hash of "
                        "its predecessor differs (a digest was replaced)",
                    )
                )
            elif digest.first_seq != (previous.last_seq if previous else 0) + 1:
                result.findings.append(
                    Finding(
                        "order",
                        f"{digest.label()} starts at position {digest.first_seq}, not where "
                        "its predecessor ends",
                    )
                )
        previous = digest
    return result


def parse_created(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
