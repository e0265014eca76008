"""Signed digests of the hash chain, written outside the database: tamper evidence that
holds against someone who can change the database.

The hash chain (logs.integrity) shows any change to a stored event, but someone who can write
to the database can delete the newest events, or rewrite a stretch and recompute every later
link, and leave a consistent chain behind. So after every transaction that appends events or
purges them, :func:`seal_chain` writes a *digest*: the positions the transaction added, the
chain's link at its end, the retention checkpoints since the previous digest and the hash of
the previous digest, signed with an Ed25519 key that is neither in the database nor the
``SECRET_KEY``. Each digest is stored in the database and written outside it (a folder, an
Azure Storage container). ``verify_audit_log`` and the offline verifier (auditportal_verify)
check the chain against them. docs/internals/signed-digests.md gives the threat model.
"""

from logs.digests.writer import DigestError, seal_chain

__all__ = ["DigestError", "seal_chain"]
