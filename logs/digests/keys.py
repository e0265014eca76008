"""The signing key: an Ed25519 private key in a file named by AUDITPORTAL_SIGNING_KEY."""

import functools
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from auditportal_verify.digests import fingerprint


class SigningKeyError(Exception):
    """The configured key file cannot be used: names the file."""


def signing_key_path() -> str:
    return getattr(settings, "AUDITPORTAL_SIGNING_KEY", "") or ""


def signing_key() -> Ed25519PrivateKey | None:
    """The configured key, or None when tamper evidence is off."""
    path = signing_key_path()
    if not path:
        return None
    try:
        stat = os.stat(path)
    except OSError as error:
        raise SigningKeyError(
            f"AUDITPORTAL_SIGNING_KEY: cannot read {path}: {error.strerror}"
        ) from None
    return _load(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int, size: int) -> Ed25519PrivateKey:
    """Read once per version of the file: a push must not parse PEM every time."""
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise SigningKeyError(
            f"AUDITPORTAL_SIGNING_KEY: {path} is not an unencrypted PEM private key: {error}"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"AUDITPORTAL_SIGNING_KEY: {path} is not an Ed25519 key")
    return key


def create_key_files(path: Path) -> tuple[Path, str]:
    """Write a new private key to ``path`` (mode 0600, never over an existing file) and its
    public half to ``path``.pub; returns the public file and the key's fingerprint."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public_path = path.with_name(path.name + ".pub")
    # Both files claimed before either is written: a .pub already there must not leave a new
    # private key behind without its public half (and a second run refusing over it).
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        public_stream = open(public_path, "xb")  # noqa: SIM115 - closed below
    except OSError:
        os.close(descriptor)
        path.unlink()
        raise
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(private)
    with public_stream:
        public_stream.write(public)
    return public_path, fingerprint(key.public_key())
